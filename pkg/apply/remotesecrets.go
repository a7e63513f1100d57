package apply

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
	"github.com/apply-cli/apply/schemas"
)

// embeddedSpecDocs returns the connection spec documents built into apply,
// by lower-cased id.
var embeddedSpecDocs = sync.OnceValue(func() map[string][]byte {
	docs := make(map[string][]byte)
	for _, doc := range schemas.ConnectionSpecs() {
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(doc, &head) == nil && head.ID != "" {
			docs[strings.ToLower(head.ID)] = doc
		}
	}
	return docs
})

// remoteSecrets returns a function that reports whether a param of c is
// sensitive ("format": "password") in c's auth spec, judged from the
// connection spec built into apply or fetched while planning. When c's
// connection spec or auth spec is unknown, every param counts as
// sensitive, so that no remote value is shown that could be a credential.
func (pl *planner) remoteSecrets(c *flowservice.Connection) func(param string) bool {
	everything := func(string) bool { return true }
	doc := pl.specDocs[c.ConnectionSpec.ID]
	if doc == nil {
		doc = embeddedSpecDocs()[strings.ToLower(c.ConnectionSpec.ID)]
	}
	if doc == nil || c.Auth == nil {
		return everything
	}

	// CheckAuth marks the params that the auth spec calls passwords. The
	// values are placeholders, so its validation errors mean nothing.
	probe := &spec.Manifest{
		ConnectionSpec: spec.SpecRef{ID: c.ConnectionSpec.ID, Version: c.ConnectionSpec.Version},
		Auth:           spec.Auth{SpecName: c.Auth.SpecName, Params: make(map[string]spec.Value, len(c.Auth.Params))},
	}
	for name := range c.Auth.Params {
		probe.Auth.Params[name] = spec.PlainValue("")
	}
	spec.CheckAuth(probe, doc)
	if !probe.AuthChecked {
		return everything
	}
	return func(param string) bool {
		v, ok := probe.Auth.Params[param]
		return !ok || v.Sensitive()
	}
}
