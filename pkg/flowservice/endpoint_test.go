package flowservice_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
)

var endpointTests = []struct {
	url string
	ok  bool
}{
	{"https://platform.adobe.io", true},
	{"https://platform.adobe.io/", true},
	{"https://platform-stage.adobe.io:443", true},
	{"HTTPS://platform.adobe.io", true},
	{"http://127.0.0.1:8080", true},
	{"http://127.1.2.3", true},
	{"http://[::1]:8080", true},
	{"http://localhost:8080", true},
	{"http://LOCALHOST", true},
	{"http://platform.adobe.io", false},
	{"http://10.0.0.1:8080", false},
	{"http://[::ffff:10.0.0.1]", false},
	{"http://0.0.0.0:8080", false},
	{"http://localhost.example.com", false},
	{"http://127.0.0.1.nip.io", false},
	{"ftp://127.0.0.1", false},
	{"ws://127.0.0.1", false},
	{"platform.adobe.io", false},
	{"//platform.adobe.io", false},
	{"https://", false},
	{"https://user:pass@platform.adobe.io", false},
	{"https://platform.adobe.io/?x=1", false},
	{"https://platform.adobe.io/#frag", false},
	{"", false},
}

func TestNewChecksEndpoint(t *testing.T) {
	for _, tc := range endpointTests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := flowservice.New(flowservice.Config{
				Endpoint: tc.url,
				APIKey:   testAPIKey,
				OrgID:    testOrgID,
				Token:    flowservice.StaticToken(testToken),
			})
			if tc.ok && err != nil {
				t.Errorf("New(%q) = %v, want success", tc.url, err)
			}
			if !tc.ok && err == nil {
				t.Errorf("New(%q) succeeded, want an error", tc.url)
			}
			if err != nil && strings.Contains(err.Error(), "pass") {
				t.Errorf("error shows URL credentials: %v", err)
			}
		})
	}
}

func TestNewIMSTokenSourceChecksBaseURL(t *testing.T) {
	for _, tc := range endpointTests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := flowservice.NewIMSTokenSource(flowservice.IMSConfig{
				BaseURL:      tc.url,
				ClientID:     "id",
				ClientSecret: "secret",
			})
			if tc.ok && err != nil {
				t.Errorf("NewIMSTokenSource(%q) = %v, want success", tc.url, err)
			}
			if !tc.ok && err == nil {
				t.Errorf("NewIMSTokenSource(%q) succeeded, want an error", tc.url)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := flowservice.New(flowservice.Config{Endpoint: "http://example.com", RateLimit: -1})
	if err == nil {
		t.Fatal("New succeeded with an empty configuration")
	}
	for _, want := range []string{"endpoint", "API key", "organization id", "token source", "rate limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestEndpointPathPrefixIsKept(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"items":[]}`))
	})
	c := newClient(t, srv.URL+"/proxy/")

	if _, err := c.ListConnections(context.Background(), flowservice.ListOptions{}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if p := srv.requests()[0].Path; p != "/proxy"+apiBase+"/connections" {
		t.Errorf("path = %s, want /proxy%s/connections", p, apiBase)
	}
}

// urlCanary stands for a password or token inside a URL.
const urlCanary = "UrlPwCanary"

var urlsWithCredentials = []string{
	"ftp://user:" + urlCanary + "@platform.adobe.io",
	"https://user:" + urlCanary + "@platform.adobe.io",
	"http://user:" + urlCanary + "@127.0.0.1:8080",
	"http://user:" + urlCanary + "@10.0.0.1",
	"https://" + urlCanary + "@platform.adobe.io",
	"https://platform.adobe.io/?token=" + urlCanary,
	"https://platform.adobe.io/?" + urlCanary,
	"http://127.0.0.1:8080/?token=" + urlCanary,
	"http://10.0.0.1/?token=" + urlCanary,
	"ftp://platform.adobe.io/?token=" + urlCanary,
	"https://platform.adobe.io/#" + urlCanary,
	"https://platform.adobe.io:" + urlCanary,
	"https:user:" + urlCanary + "@platform.adobe.io",
	"https://u:" + urlCanary + "%zz@platform.adobe.io",
}

func TestURLCredentialsNotShown(t *testing.T) {
	for _, raw := range urlsWithCredentials {
		t.Run(raw, func(t *testing.T) {
			cfg := flowservice.Config{
				Endpoint: raw,
				APIKey:   testAPIKey,
				OrgID:    testOrgID,
				Token:    flowservice.StaticToken(testToken),
			}
			_, err := flowservice.New(cfg)
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", raw)
			}
			ims := flowservice.IMSConfig{BaseURL: raw, ClientID: "id", ClientSecret: "secret"}
			_, imsErr := flowservice.NewIMSTokenSource(ims)
			if imsErr == nil {
				t.Fatalf("NewIMSTokenSource(%q) succeeded, want an error", raw)
			}
			texts := map[string]string{
				"New error":               err.Error(),
				"NewIMSTokenSource error": imsErr.Error(),
				"Config":                  fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
				"IMSConfig":               fmt.Sprintf("%v %+v %#v %s", ims, ims, ims, ims),
			}
			for what, text := range texts {
				if strings.Contains(text, urlCanary) {
					t.Errorf("%s shows the URL's credentials: %s", what, text)
				}
			}
		})
	}
}
