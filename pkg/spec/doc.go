// Package spec turns YAML manifests into validated, fully resolved connection
// requests. It loads files and directories, keeps the YAML position of every
// value so that each error reads file:line:col, validates documents against
// the embedded JSON Schemas, resolves $VAR and ${VAR} references from the
// environment and computes canonical digests for change detection.
//
// The package never talks to the network. Values that came from the
// environment, params that a connection spec marks "format": "password",
// and every param whose connection spec is not yet checked are carried as
// [Secret], whose printed forms never show the value.
package spec
