// Package schemas embeds the JSON Schemas that apply validates against: the
// manifest schema, which editors can use too, and the connection specs of
// the Flow Service sources that apply supports offline. The emulator serves
// the same connection specs, so offline validation and the emulator cannot
// disagree.
package schemas

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed manifest.schema.json connectionspecs/*.json
var files embed.FS

// ManifestSchemaName is the file name of the manifest schema in this
// package.
const ManifestSchemaName = "manifest.schema.json"

// Manifest returns the JSON Schema of a manifest document.
func Manifest() []byte {
	data, err := files.ReadFile(ManifestSchemaName)
	if err != nil {
		panic(err) // embedded at build time, so it cannot be missing
	}
	return data
}

// ConnectionSpecs returns every embedded connection spec, sorted by file name.
// Each is one JSON document shaped as an item of GET /connectionSpecs: id,
// name, providerId, version and authSpec, where each authSpec entry carries a
// draft-07 JSON Schema of the auth params.
func ConnectionSpecs() [][]byte {
	names, err := fs.Glob(files, "connectionspecs/*.json")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	out := make([][]byte, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(path.Clean(name))
		if err != nil {
			panic(err)
		}
		out = append(out, data)
	}
	return out
}
