package apply

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// compareRemote lists the fields of c that differ from m, leaving out the
// values of sensitive params. The service never returns them in clear, so
// they are compared through the lock file instead (see
// planner.compareSecrets). remoteSecret reports whether a param of c is
// sensitive in c's auth spec, to hide the remote value of a param that the
// manifest removes.
func compareRemote(m *spec.Manifest, c *flowservice.Connection, remoteSecret func(param string) bool) []FieldChange {
	var changes []FieldChange
	if c.Name != m.Name {
		changes = append(changes, FieldChange{Path: "name", Before: c.Name, After: m.Name})
	}
	if c.Description != m.Description {
		// Without a description field the patch removes the description.
		removed := m.Description == "" && !m.HasDescription
		changes = append(changes, FieldChange{Path: "description", Before: c.Description, After: m.Description, Removed: removed})
	}
	if remoteAuthSpec(c) != m.Auth.SpecName {
		changes = append(changes, FieldChange{Path: "auth.specName", Before: remoteAuthSpec(c), After: m.Auth.SpecName})
	}
	return append(changes, compareParams(m, c, remoteSecret)...)
}

// compareParams lists the non-sensitive params that differ, in name order:
// a param the remote lacks as added, and a remote param the manifest lacks
// as removed, with its remote value unless remoteSecret reports it
// sensitive. A nil remoteSecret treats every removed param as sensitive.
//
// NOTE: the documentation does not say whether the service adds params of
// its own, such as defaults, to what GET returns. If it does, each such
// param shows as a change on every run until the manifest sets it.
func compareParams(m *spec.Manifest, c *flowservice.Connection, remoteSecret func(param string) bool) []FieldChange {
	remote := remoteParams(c)
	names := make(map[string]bool)
	for k := range m.Auth.Params {
		names[k] = true
	}
	for k := range remote {
		names[k] = true
	}

	var changes []FieldChange
	for _, k := range sortedKeys(names) {
		path := "auth.params." + k
		want, inManifest := m.Auth.Params[k]
		got, inRemote := remote[k]
		switch {
		case !inManifest && (remoteSecret == nil || remoteSecret(k)):
			changes = append(changes, FieldChange{Path: path, Removed: true, Sensitive: true})
		case !inManifest:
			changes = append(changes, FieldChange{Path: path, Before: got, Removed: true})
		case want.Sensitive():
			// Compared through the lock file's HMAC.
		case !inRemote:
			changes = append(changes, FieldChange{Path: path, After: want.String(), Added: true})
		case got != want.Reveal():
			changes = append(changes, FieldChange{Path: path, Before: got, After: want.String()})
		}
	}
	return changes
}

// remoteParams returns c's auth params as text. The API sends every param
// as a string, and anything else is shown as its JSON form.
func remoteParams(c *flowservice.Connection) map[string]string {
	if c.Auth == nil {
		return nil
	}
	params := make(map[string]string, len(c.Auth.Params))
	for k, v := range c.Auth.Params {
		if s, ok := v.(string); ok {
			params[k] = s
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			data = []byte(fmt.Sprint(v))
		}
		params[k] = string(data)
	}
	return params
}

func remoteAuthSpec(c *flowservice.Connection) string {
	if c.Auth == nil {
		return ""
	}
	return c.Auth.SpecName
}

// needsParams reports whether changes require sending the auth params,
// which the API replaces as a whole object. Possible changes of an
// offline plan do not count.
func needsParams(changes []FieldChange) bool {
	for _, ch := range changes {
		if ch.Possible {
			continue
		}
		if ch.Path == "auth.specName" || strings.HasPrefix(ch.Path, "auth.params") {
			return true
		}
	}
	return false
}

// patchOps returns the JSON Patch that turns c into m. The params are sent
// whole, with sensitive values revealed, when sendParams is set or a
// non-sensitive param or the auth spec differs. Replacing /auth/params
// replaces the whole object, so every param must be in it. Call it only
// to build a request.
func patchOps(m *spec.Manifest, c *flowservice.Connection, sendParams bool) []flowservice.PatchOp {
	var ops []flowservice.PatchOp
	if c.Name != m.Name {
		ops = append(ops, flowservice.PatchOp{Op: "replace", Path: "/name", Value: m.Name})
	}
	switch {
	case c.Description == m.Description:
	case m.Description == "":
		// NOTE: whether the service accepts "remove" on /description is
		// undocumented. Without it, an empty description cannot be set.
		ops = append(ops, flowservice.PatchOp{Op: "remove", Path: "/description"})
	case c.Description == "":
		ops = append(ops, flowservice.PatchOp{Op: "add", Path: "/description", Value: m.Description})
	default:
		ops = append(ops, flowservice.PatchOp{Op: "replace", Path: "/description", Value: m.Description})
	}
	if remoteAuthSpec(c) != m.Auth.SpecName {
		// NOTE: the documentation only shows /auth/params being patched.
		// Whether /auth/specName can be replaced is undocumented.
		ops = append(ops, flowservice.PatchOp{Op: "replace", Path: "/auth/specName", Value: m.Auth.SpecName})
		sendParams = true
	}
	if sendParams || len(compareParams(m, c, nil)) > 0 {
		ops = append(ops, flowservice.PatchOp{Op: "replace", Path: "/auth/params", Value: revealParams(m), Sensitive: sensitiveSet(m)})
	}
	return ops
}

// revealParams returns m's auth params with sensitive values in clear, for
// a request body only.
func revealParams(m *spec.Manifest) map[string]string {
	params := make(map[string]string, len(m.Auth.Params))
	for k, v := range m.Auth.Params {
		params[k] = v.Reveal()
	}
	return params
}

// connectionInput returns the create request for m.
func connectionInput(m *spec.Manifest) flowservice.ConnectionInput {
	return flowservice.ConnectionInput{
		Name:        m.Name,
		Description: m.Description,
		ConnectionSpec: flowservice.SpecRef{
			ID:      m.ConnectionSpec.ID,
			Version: m.ConnectionSpec.Version,
		},
		AuthSpecName: m.Auth.SpecName,
		Params:       revealParams(m),
		Sensitive:    sensitiveSet(m),
	}
}

// sensitiveSet returns the names of m's sensitive params for the client,
// which keeps only their values out of error messages. The map is never
// nil, since nil would make the client treat every param as secret.
func sensitiveSet(m *spec.Manifest) map[string]bool {
	set := make(map[string]bool)
	for k, v := range m.Auth.Params {
		if v.Sensitive() {
			set[k] = true
		}
	}
	return set
}

// sensitiveNames returns the names of m's sensitive params, sorted.
func sensitiveNames(m *spec.Manifest) []string {
	var names []string
	for k, v := range m.Auth.Params {
		if v.Sensitive() {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// unresolvedVars returns the unset variables of m's params, sorted.
func unresolvedVars(m *spec.Manifest) []string {
	set := make(map[string]bool)
	for _, v := range m.Auth.Params {
		for _, name := range v.Unresolved() {
			set[name] = true
		}
	}
	return sortedKeys(set)
}

// secretsChange returns the field change shown when sensitive params are
// sent again: changed, or of unknown change with --update-secrets
// (unknown), or re-sent with other params (resent). The plan cannot tell
// which of them changed, since the lock file keeps one HMAC over all of
// them.
func secretsChange(m *spec.Manifest, unknown, resent bool) FieldChange {
	names := sensitiveNames(m)
	path := "auth.params." + strings.Join(names, ",")
	if len(names) > 1 {
		path = "auth.params.{" + strings.Join(names, ",") + "}"
	}
	return FieldChange{Path: path, Sensitive: true, Unknown: unknown, Resent: resent}
}

// possibleChanges lists the fields that may have changed when the lock
// file of an offline plan records only that m's digest differs: the
// description and the non-sensitive params, with m's values.
func possibleChanges(m *spec.Manifest) []FieldChange {
	changes := []FieldChange{{Path: "description", After: m.Description, Possible: true}}
	names := make([]string, 0, len(m.Auth.Params))
	for k, v := range m.Auth.Params {
		if !v.Sensitive() {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		changes = append(changes, FieldChange{Path: "auth.params." + k, After: m.Auth.Params[k].String(), Possible: true})
	}
	return changes
}
