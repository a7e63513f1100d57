package flowservice_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
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

// urlCanary represents a password or token inside a URL.
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

// remoteAddrConn is a connection that reports another remote address.
type remoteAddrConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteAddrConn) RemoteAddr() net.Addr { return c.remote }

// TestSuppliedTransportChecksLoopback gives the client a transport whose
// dialer reaches 10.0.0.1, as localhost would if /etc/hosts or DNS mapped it
// there. The connection is an in-memory pipe, so nothing leaves the process.
func TestSuppliedTransportChecksLoopback(t *testing.T) {
	for _, target := range []string{"Flow Service", "IMS"} {
		t.Run(target, func(t *testing.T) {
			var received atomic.Int64
			dial := func(context.Context, string, string) (net.Conn, error) {
				client, server := net.Pipe()
				go func() {
					defer server.Close()
					buf := make([]byte, 4096)
					n, _ := server.Read(buf)
					received.Add(int64(n))
					if n > 0 {
						server.Write([]byte("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
					}
				}()
				return remoteAddrConn{client, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 8080}}, nil
			}
			hc := &http.Client{Transport: &http.Transport{DialContext: dial}}

			var err error
			if target == "IMS" {
				ts, tsErr := flowservice.NewIMSTokenSource(flowservice.IMSConfig{
					BaseURL:      "http://localhost:8080",
					ClientID:     testClientID,
					ClientSecret: testClientSecret,
					HTTPClient:   hc,
				})
				if tsErr != nil {
					t.Fatal(tsErr)
				}
				_, err = ts.Token(context.Background())
			} else {
				c := newClient(t, "http://localhost:8080", func(cfg *flowservice.Config) {
					cfg.HTTPClient = hc
					cfg.MaxRetries = -1
				})
				_, err = c.GetConnection(context.Background(), "id1")
			}
			if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
				t.Errorf("error = %v, want the connection to 10.0.0.1 rejected", err)
			}
			if n := received.Load(); n > 0 {
				t.Errorf("the non-loopback peer received %d bytes of the request", n)
			}
		})
	}
}
