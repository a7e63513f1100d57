package flowservice_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// printCanary is planted in every secret of the values that
// TestPrintedValuesHideSecrets prints.
const printCanary = "PrintCanary-7d3f"

// printVerbs are the fmt verbs that a caller may apply to any value.
var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X"}

func TestPrintedValuesHideSecrets(t *testing.T) {
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"access_token":"`+printCanary+`-token","expires_in":3600}`))
	})
	imsConfig := flowservice.IMSConfig{
		BaseURL:      ims.URL,
		ClientID:     printCanary + "-client-id",
		ClientSecret: printCanary + "-client-secret",
	}
	imsSource, err := flowservice.NewIMSTokenSource(imsConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imsSource.Token(context.Background()); err != nil {
		t.Fatalf("Token: %v", err) // caches the canary token in the source
	}
	static := flowservice.StaticToken(printCanary + "-static")
	config := flowservice.Config{
		Endpoint: ims.URL,
		APIKey:   printCanary + "-api-key",
		OrgID:    testOrgID,
		Token:    static,
	}
	client, err := flowservice.New(config)
	if err != nil {
		t.Fatal(err)
	}
	input := flowservice.ConnectionInput{
		Name:           "orders",
		ConnectionSpec: flowservice.SpecRef{ID: "26d738e0-8963-47ea-aadf-c60de735468a", Version: "1.0"},
		AuthSpecName:   "Basic Authentication",
		Params:         map[string]string{"password": printCanary + "-password"},
	}
	ops := []flowservice.PatchOp{
		{Op: "replace", Path: "/auth/params", Value: map[string]string{"password": printCanary + "-patch"}},
		{Op: "replace", Path: "/auth/params/password", Value: printCanary + "-patch-one"},
	}

	values := map[string]any{
		"ConnectionInput":  input,
		"*ConnectionInput": &input,
		"Config":           config,
		"*Config":          &config,
		"IMSConfig":        imsConfig,
		"*IMSConfig":       &imsConfig,
		"StaticToken":      static,
		"IMS token source": imsSource,
		"*Client":          client,
		"PatchOp":          ops[0],
		"[]PatchOp":        ops,
		"struct with all": struct {
			Input  flowservice.ConnectionInput
			Config flowservice.Config
			IMS    flowservice.IMSConfig
			Ops    []flowservice.PatchOp
		}{input, config, imsConfig, ops},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			for _, verb := range printVerbs {
				checkNoCanary(t, "fmt "+verb, fmt.Sprintf(verb, v))
			}
			data, err := json.Marshal(v)
			if err != nil {
				t.Errorf("json.Marshal: %v", err)
			}
			checkNoCanary(t, "json.Marshal", string(data))

			var text, jsonLog bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Info("value", "v", v)
			slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("value", "v", v)
			checkNoCanary(t, "slog text handler", text.String())
			checkNoCanary(t, "slog JSON handler", jsonLog.String())
		})
	}
}

// checkNoCanary fails the test if text contains printCanary as is or
// hex-encoded.
func checkNoCanary(t *testing.T, what, text string) {
	t.Helper()
	for _, form := range []string{printCanary, hex.EncodeToString([]byte(printCanary)), strings.ToUpper(hex.EncodeToString([]byte(printCanary)))} {
		if strings.Contains(text, form) {
			t.Errorf("%s shows a secret: %s", what, text)
			return
		}
	}
}

// TestPrintedValuesKeepDetails checks that the redacted forms still show
// what is not secret, so that a caller can tell values apart.
func TestPrintedValuesKeepDetails(t *testing.T) {
	input := flowservice.ConnectionInput{
		Name:         "orders",
		AuthSpecName: "Basic Authentication",
		Params:       map[string]string{"password": "hunter2-secret", "server": "db.example"},
	}
	data, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Name   string
		Params map[string]string
	}
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Name != "orders" || decoded.Params["password"] != "[REDACTED]" || len(decoded.Params) != 2 {
		t.Errorf("json.Marshal(ConnectionInput) = %s, want the name and param names with redacted values", data)
	}

	op := flowservice.PatchOp{Op: "replace", Path: "/description", Value: "nightly orders"}
	data, err = json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"op":"replace","path":"/description","value":"nightly orders"}`; string(data) != want {
		t.Errorf("json.Marshal(PatchOp) = %s, want %s: a description is no secret", data, want)
	}
}
