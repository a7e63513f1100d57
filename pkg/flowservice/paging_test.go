package flowservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// pageWithNext returns a one-item page whose continuation link is href.
func pageWithNext(id, href string) []byte {
	return []byte(`{"items":[{"id":"` + id + `"}],"_links":{"next":{"href":"` + href + `"}}}`)
}

func TestListFollowsAbsoluteLinkOnSameHost(t *testing.T) {
	var srv *fakeServer
	srv = newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusOK, pageWithNext("a", srv.URL+apiBase+"/connections?continuationToken=t2"))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"b"}],"_links":{}}`))
	})
	c := newClient(t, srv.URL)

	got, err := c.ListConnections(context.Background(), flowservice.ListOptions{})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if len(got) != 2 {
		t.Errorf("got %d connections, want 2", len(got))
	}
	if q := srv.requests()[1].Query; q != "continuationToken=t2" {
		t.Errorf("second page query = %q", q)
	}
}

func TestListFollowsHostRelativeLink(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusOK, pageWithNext("a", apiBase+"/connections?continuationToken=t2"))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"b"}]}`))
	})
	c := newClient(t, srv.URL)

	if _, err := c.ListConnections(context.Background(), flowservice.ListOptions{}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if p := srv.requests()[1].Path; p != apiBase+"/connections" {
		t.Errorf("second page path = %s, want %s/connections", p, apiBase)
	}
}

func TestListKeepsTokenEncoding(t *testing.T) {
	const token = "a%2Bb%3D%3D"
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusOK, pageWithNext("a", "/connections?continuationToken="+token))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"items":[],"_links":{}}`))
	})
	c := newClient(t, srv.URL)

	if _, err := c.ListConnections(context.Background(), flowservice.ListOptions{Limit: 1}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	q := srv.requests()[1].Query
	if !strings.HasPrefix(q, "continuationToken="+token+"&") {
		t.Errorf("second page query = %q, want the token as the server sent it", q)
	}
	if values, _ := url.ParseQuery(q); values.Get("continuationToken") != "a+b==" {
		t.Errorf("token decodes to %q, want a+b==", values.Get("continuationToken"))
	}
}

func TestListRejectsBadNextLinks(t *testing.T) {
	tests := map[string]string{
		"other host":        "https://elsewhere.example/data/foundation/flowservice/connections?continuationToken=x",
		"other scheme":      "https://127.0.0.1/data/foundation/flowservice/connections?continuationToken=x",
		"outside base path": "/../../../other?continuationToken=x",
		"repeated link":     "/connections?continuationToken=same",
	}
	for name, href := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > 2 {
					t.Errorf("request %d: the client kept following %s", n, r.URL)
					writeJSON(w, http.StatusOK, []byte(`{"items":[]}`))
					return
				}
				writeJSON(w, http.StatusOK, pageWithNext("a", href))
			})
			c := newClient(t, srv.URL)

			_, err := c.ListConnections(context.Background(), flowservice.ListOptions{})
			if err == nil {
				t.Fatal("ListConnections succeeded, want an error")
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestFindConnectionsByNameExactMatch(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"items":[
			{"id":"1","name":"orders db"},
			{"id":"2","name":"Orders DB"},
			{"id":"3","name":"orders db "},
			{"id":"4","name":"orders db"}
		],"_links":{}}`))
	})
	c := newClient(t, srv.URL)

	got, err := c.FindConnectionsByName(context.Background(), "orders db")
	if err != nil {
		t.Fatalf("FindConnectionsByName: %v", err)
	}
	var ids []string
	for _, conn := range got {
		ids = append(ids, conn.ID)
	}
	if diff := cmp.Diff([]string{"1", "4"}, ids); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	req := srv.requests()[0]
	query, _ := url.ParseQuery(req.Query)
	if diff := cmp.Diff(url.Values{"property": {`name=="orders db"`}}, query); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(req.Query, "%22orders") {
		t.Errorf("raw query %q, want the quotes URL-encoded", req.Query)
	}
}

func TestFindConnectionsByNameWithSyntaxListsAll(t *testing.T) {
	for _, name := range []string{`say "hi"`, "a,b", `back\slash`, "x==y", "a<b"} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"1","name":"other"}],"_links":{}}`))
			})
			c := newClient(t, srv.URL)

			got, err := c.FindConnectionsByName(context.Background(), name)
			if err != nil {
				t.Fatalf("FindConnectionsByName: %v", err)
			}
			if len(got) != 0 {
				t.Errorf("got %d connections, want none", len(got))
			}
			if q := srv.requests()[0].Query; q != "" {
				t.Errorf("query = %q, want no filter for a name the filter grammar could misread", q)
			}
		})
	}
}

func TestNextLinkTokenNotShown(t *testing.T) {
	const canary = "UrlPwCanary"
	tests := map[string]string{
		"other host":        "https://elsewhere.example/data/foundation/flowservice/connections?continuationToken=" + canary,
		"outside base path": "/../../../other?continuationToken=" + canary,
		"repeated link":     "/connections?continuationToken=" + canary,
		"user info":         "//user:" + canary + "@elsewhere.example/connections",
		"unparsable":        "/connections?continuationToken=" + canary + "%zz#\x7f",
	}
	for name, href := range tests {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				body, _ := json.Marshal(map[string]any{
					"items":  []any{map[string]string{"id": "a"}},
					"_links": map[string]any{"next": map[string]string{"href": href}},
				})
				if n > 2 {
					body = []byte(`{"items":[]}`)
				}
				writeJSON(w, http.StatusOK, body)
			})
			c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.Logger = logger })

			_, err := c.ListConnections(context.Background(), flowservice.ListOptions{})
			if err == nil {
				t.Fatal("ListConnections succeeded, want an error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error shows the continuation token: %v", err)
			}
			if strings.Contains(logs.String(), canary) {
				t.Errorf("debug log shows the continuation token:\n%s", logs.String())
			}
		})
	}
}
