package spec

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The canaries are planted as an environment variable and as literal
// format: password values in testdata/canary. They must never appear in any
// output of the package.
const (
	envCanary     = "CANARY-env-8d2c"
	literalCanary = "CANARY-literal-3f9a"
)

var canaryEnv = map[string]string{
	"CANARY_PASSWORD":       envCanary,
	"CANARY_WITH_SEMICOLON": envCanary + ";Evil=1",
}

// formatVerbs are the fmt verbs a caller might print a value with.
var formatVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3s"}

func formatAll(v any) []string {
	var out []string
	for _, verb := range formatVerbs {
		out = append(out, fmt.Sprintf(verb, v))
	}
	data, err := json.Marshal(v)
	if err != nil {
		out = append(out, "json error: "+err.Error())
	}
	return append(out, string(data))
}

// canaryForms are the canaries and the encodings that %x, %X and JSON
// escaping could turn them into.
func canaryForms() []string {
	var forms []string
	for _, c := range []string{envCanary, literalCanary} {
		forms = append(forms,
			c,
			hex.EncodeToString([]byte(c)),
			strings.ToUpper(hex.EncodeToString([]byte(c))),
			base64.StdEncoding.EncodeToString([]byte(c)),
			"8d2c", "3f9a", // the random parts, in case a value is cut
		)
	}
	return forms
}

func TestCanarySecretNeverShown(t *testing.T) {
	var (
		logs    bytes.Buffer
		outputs []string
	)
	handlerOpts := &slog.HandlerOptions{Level: slog.LevelDebug}
	textLog := slog.New(slog.NewTextHandler(&logs, handlerOpts))
	jsonLog := slog.New(slog.NewJSONHandler(&logs, handlerOpts))
	opts := LoadOptions{LookupEnv: lookupIn(canaryEnv), Logger: textLog}

	// Valid manifests: the values must reach Reveal and nothing else.
	res, err := Load([]string{"testdata/canary/valid"}, opts)
	if err != nil {
		t.Fatalf("Load(valid): %v", err)
	}
	revealed := 0
	for _, m := range res.Manifests {
		for name, v := range m.Auth.Params {
			if strings.Contains(v.Reveal(), envCanary) || strings.Contains(v.Reveal(), literalCanary) {
				revealed++
				if !v.Sensitive() {
					t.Errorf("%s: param %s holds a canary but is not sensitive", m.Name, name)
				}
			}
			outputs = append(outputs, formatAll(v)...)
			outputs = append(outputs, v.String(), v.GoString())
			text, _ := v.MarshalText()
			outputs = append(outputs, string(text))
		}
		outputs = append(outputs, formatAll(m)...)
		outputs = append(outputs, formatAll(*m)...)
		outputs = append(outputs, formatAll(m.Auth)...)
		outputs = append(outputs, formatAll(m.Auth.Params)...)
		outputs = append(outputs, m.Digest(), m.SecretHMAC([]byte("key")))
		for _, l := range []*slog.Logger{textLog, jsonLog} {
			l.Info("manifest", "manifest", m, "params", m.Auth.Params, "auth", m.Auth)
			for name, v := range m.Auth.Params {
				l.Info("param", "name", name, "value", v, "any", any(v))
			}
		}
	}
	if revealed != 6 {
		t.Fatalf("found the canaries in %d revealed values, want 6: the fixtures no longer plant them", revealed)
	}
	for _, w := range res.Warnings {
		outputs = append(outputs, w.Error())
	}

	// The online check marks literal passwords sensitive as well.
	for _, m := range res.Manifests {
		if m.ConnectionSpec.ID == mysqlSpec.ID {
			for _, e := range CheckAuth(m, readTestFile(t, "../../schemas/connectionspecs/mysql.json")) {
				outputs = append(outputs, e.Error())
			}
			outputs = append(outputs, formatAll(m)...)
		}
	}

	// A spec fetched online, with keywords whose library messages echo the
	// value ("format", "maximum").
	online, err := Load([]string{"testdata/canary/online"}, opts)
	if err != nil {
		t.Fatalf("Load(online): %v", err)
	}
	for _, w := range online.Warnings {
		outputs = append(outputs, w.Error())
	}
	onlineErrs := CheckAuth(online.Manifests[0], readTestFile(t, "testdata/checkauth/token-spec.json"))
	if len(onlineErrs) < 4 {
		t.Fatalf("CheckAuth(online) found %d errors, want at least 4:\n%v", len(onlineErrs), onlineErrs)
	}
	outputs = append(outputs, onlineErrs.Error())
	outputs = append(outputs, formatAll(online.Manifests[0])...)

	// Invalid manifests: every error and warning, with and without
	// unresolved values allowed.
	for _, allow := range []bool{false, true} {
		opts.AllowUnresolved = allow
		res, err := Load([]string{"testdata/canary/invalid"}, opts)
		if err == nil {
			t.Fatalf("Load(invalid) succeeded")
		}
		list := err.(ErrorList)
		if len(list) < 8 {
			t.Fatalf("Load(invalid) found %d errors, want at least 8:\n%v", len(list), err)
		}
		outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", list), fmt.Sprintf("%#v", list))
		for _, e := range list {
			outputs = append(outputs, e.Field, e.Msg, e.Pos.String())
		}
		for _, w := range res.Warnings {
			outputs = append(outputs, w.Error())
		}
	}

	// Connection strings parsed directly.
	for _, s := range []string{"PWD={" + literalCanary, "PWD=" + literalCanary + ";" + literalCanary, literalCanary} {
		cs, err := ParseConnectionString(s)
		outputs = append(outputs, fmt.Sprint(err))
		outputs = append(outputs, formatAll(cs)...)
	}

	outputs = append(outputs, logs.String())
	if !strings.Contains(logs.String(), "loaded manifest") {
		t.Errorf("no debug logs were captured: %q", logs.String())
	}
	for _, out := range outputs {
		for _, form := range canaryForms() {
			if strings.Contains(out, form) {
				t.Errorf("output shows a canary (%q):\n%s", form, out)
			}
		}
	}
}
