package apply

import (
	"encoding/json"
	"sync"

	"github.com/apply-cli/apply/schemas"
)

// builtinSpecNames maps the ids of the built-in connection specs to their
// names, such as "mariadb".
var builtinSpecNames = sync.OnceValue(func() map[string]string {
	names := make(map[string]string)
	for _, doc := range schemas.ConnectionSpecs() {
		var cs struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if json.Unmarshal(doc, &cs) == nil && cs.ID != "" {
			names[cs.ID] = cs.Name
		}
	}
	return names
})

// specLabel returns a connection spec id followed by its name in
// brackets when the spec is built in, such as "3000eb99-... (mariadb)".
func specLabel(id string) string {
	if name := builtinSpecNames()[id]; name != "" {
		return id + " (" + name + ")"
	}
	return id
}
