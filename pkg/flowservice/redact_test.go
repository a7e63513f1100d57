package flowservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// echoCase is a server that puts the request, or a secret from it, into its
// error response in some form that an exact search for the secret misses.
type echoCase struct {
	name   string
	secret string // the password of a create, or the IMS client secret
	ims    bool   // the secret is the IMS client secret
	// respond writes the error response to a request with body body.
	respond func(w http.ResponseWriter, body []byte)
	// withheld is set when the client must drop the server's message
	// entirely, and unset when it must keep it with the secret replaced.
	withheld bool
}

var echoCases = []echoCase{
	{
		name:   "plain text with doubled spaces",
		secret: "Two  Spaces  Canary-a",
		respond: func(w http.ResponseWriter, body []byte) {
			writeText(w, "invalid request:\n"+string(body))
		},
	},
	{
		name:   "plain text cut inside the secret",
		secret: "StraddleCanary-b",
		respond: func(w http.ResponseWriter, body []byte) {
			// The message is cut at 200 characters, ten characters into
			// the password.
			writeText(w, strings.Repeat("x", 189)+" "+passwordOf(body)+" is invalid")
		},
	},
	{
		name:   "JSON quoting the raw request",
		secret: `Pw<&"\Canary-c`,
		respond: func(w http.ResponseWriter, body []byte) {
			writeJSONDetail(w, "invalid request "+string(body), true)
		},
	},
	{
		name:   "JSON re-encoded without HTML escaping",
		secret: `Pw<&"\Canary-c2`,
		respond: func(w http.ResponseWriter, body []byte) {
			var req any
			json.Unmarshal(body, &req)
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.Encode(req)
			writeJSONDetail(w, "invalid request "+b.String(), false)
		},
	},
	{
		name:   "IMS form body in plain text",
		secret: "Canary+Pw/Value-d==",
		ims:    true,
		respond: func(w http.ResponseWriter, body []byte) {
			writeText(w, "invalid_client: "+string(body))
		},
	},
	{
		name:   "IMS form body in JSON",
		secret: "Canary+Pw/Value-d2==",
		ims:    true,
		respond: func(w http.ResponseWriter, body []byte) {
			msg, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": "bad body " + string(body)})
			writeJSON(w, http.StatusBadRequest, msg)
		},
	},
	{
		name:   "plain text wrapped inside the secret",
		secret: "WrappedPasswordCanary-e",
		respond: func(w http.ResponseWriter, body []byte) {
			var b strings.Builder
			for len(body) > 16 {
				b.Write(body[:16])
				b.WriteString("\n")
				body = body[16:]
			}
			b.Write(body)
			writeText(w, b.String())
		},
		withheld: true,
	},
	{
		name:   "short secret",
		secret: "q7!",
		respond: func(w http.ResponseWriter, body []byte) {
			writeJSONDetail(w, "password "+passwordOf(body)+" is invalid", true)
		},
		withheld: true,
	},
}

// TestServerEchoIsRedacted sends a secret to a loopback server that echoes
// it back in an error, and checks that no part of the secret reaches the
// error message.
func TestServerEchoIsRedacted(t *testing.T) {
	for _, tc := range echoCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				body, _ := readBody(r)
				w.Header().Set("x-request-id", "req-echo")
				tc.respond(w, body)
			})
			err := failEchoed(t, srv.URL, tc)
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want a *flowservice.Error", err, err)
			}
			text := err.Error()
			if part := secretPart(text, tc.secret); part != "" {
				t.Errorf("error shows %q of the secret: %s", part, text)
			}
			if apiErr.MessageWithheld != tc.withheld {
				t.Errorf("MessageWithheld = %v, want %v: %s", apiErr.MessageWithheld, tc.withheld, text)
			}
			if !tc.withheld && !strings.Contains(apiErr.Detail, "[REDACTED]") {
				t.Errorf("Detail = %q, want the server's message with the secret replaced", apiErr.Detail)
			}
			if apiErr.Status != http.StatusBadRequest || apiErr.RequestID != "req-echo" {
				t.Errorf("status %d, request id %q; want 400 and req-echo kept", apiErr.Status, apiErr.RequestID)
			}
		})
	}
}

// failEchoed sends tc.secret to the echo server at url, as a create's
// password or as the IMS client secret, and returns the error.
func failEchoed(t *testing.T, url string, tc echoCase) error {
	ctx := context.Background()
	if tc.ims {
		ts, err := flowservice.NewIMSTokenSource(flowservice.IMSConfig{
			BaseURL:      url,
			ClientID:     testClientID,
			ClientSecret: tc.secret,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ts.Token(ctx)
		return err
	}
	c := newClient(t, url)
	in := mysqlInput
	in.Params = map[string]string{"server": "db.example.com", "password": tc.secret}
	_, err := c.CreateConnection(ctx, in)
	return err
}

// secretPart returns a piece of secret that text contains: the whole secret
// if it is shorter than five characters, or else any five characters of it
// in a row. It returns "" if text contains none.
func secretPart(text, secret string) string {
	n := min(5, len(secret))
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+n]) {
			return secret[i : i+n]
		}
	}
	return ""
}

func readBody(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

// passwordOf returns the password param of a create request body.
func passwordOf(body []byte) string {
	var req struct {
		Auth struct {
			Params map[string]string `json:"params"`
		} `json:"auth"`
	}
	json.Unmarshal(body, &req)
	return req.Auth.Params["password"]
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(text))
}

// writeJSONDetail writes a Flow Service 400 whose detail is detail, encoded
// with or without HTML escaping.
func writeJSONDetail(w http.ResponseWriter, detail string, escapeHTML bool) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	enc.Encode(map[string]any{
		"type":   "https://ns.adobe.com/aep/errors/FLOW-1455-400",
		"title":  "Bad Request",
		"detail": detail,
	})
	writeJSON(w, http.StatusBadRequest, b.Bytes())
}

// TestSensitiveParamsDecideWithholding sends a create and a patch whose
// params include a port shorter than four characters, to a server that
// echoes the request in its error. Only a short secret makes the client
// withhold the server's message, and nil Sensitive treats every param as one.
func TestSensitiveParamsDecideWithholding(t *testing.T) {
	const longSecret = "Canary-Pw-f7Qz-long"
	tests := []struct {
		name      string
		password  string
		sensitive map[string]bool
		withheld  bool
	}{
		{"short non-secret port", longSecret, map[string]bool{"password": true}, false},
		{"short secret", "q7!", map[string]bool{"password": true}, true},
		{"every param secret", longSecret, nil, true},
	}
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body, _ := readBody(r)
		writeJSONDetail(w, "rejected "+string(body), true)
	})
	c := newClient(t, srv.URL)
	for _, tt := range tests {
		params := map[string]string{"server": "db.example.com", "port": "443", "password": tt.password}
		calls := []struct {
			name string
			send func() error
		}{
			{"create", func() error {
				in := mysqlInput
				in.Params = params
				in.Sensitive = tt.sensitive
				_, err := c.CreateConnection(context.Background(), in)
				return err
			}},
			{"patch", func() error {
				ops := []flowservice.PatchOp{{Op: "replace", Path: "/auth/params", Value: params, Sensitive: tt.sensitive}}
				_, err := c.PatchConnection(context.Background(), "id1", `"e1"`, ops)
				return err
			}},
		}
		for _, call := range calls {
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				err := call.send()
				var apiErr *flowservice.Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("error = %v (%T), want a *flowservice.Error", err, err)
				}
				text := err.Error()
				if part := secretPart(text, tt.password); part != "" {
					t.Errorf("error shows %q of the password: %s", part, text)
				}
				if apiErr.MessageWithheld != tt.withheld {
					t.Errorf("MessageWithheld = %v, want %v: %s", apiErr.MessageWithheld, tt.withheld, text)
				}
				if tt.withheld {
					return
				}
				if !strings.Contains(apiErr.Detail, `"port":"443"`) {
					t.Errorf("Detail = %q, want the server's message with the port in it", apiErr.Detail)
				}
				if !strings.Contains(apiErr.Detail, `"password":"[REDACTED]"`) {
					t.Errorf("Detail = %q, want the password replaced with [REDACTED]", apiErr.Detail)
				}
			})
		}
	}
}

// TestShortAPIKeyKeepsServerMessage checks that an API key shorter than
// four characters, such as "key" with the emulator, does not withhold the
// server's messages: the API key is the public client id, not a secret.
func TestShortAPIKeyKeepsServerMessage(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSONDetail(w, "port must be a number", true)
	})
	c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.APIKey = "key" })
	ops := []flowservice.PatchOp{{Op: "replace", Path: "/description", Value: "orders"}}
	_, err := c.PatchConnection(context.Background(), "id1", `"e1"`, ops)
	var apiErr *flowservice.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T), want a *flowservice.Error", err, err)
	}
	if apiErr.MessageWithheld {
		t.Errorf("server message withheld with a short API key: %v", err)
	}
	if !strings.Contains(err.Error(), "port must be a number") {
		t.Errorf("error = %q, want the server's message", err)
	}
}
