package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The benchmark creates MySQL base connections with basic authentication,
// the shape of Adobe's tutorial for a MySQL source.
const (
	mysqlSpecID     = "26d738e0-8963-47ea-aadf-c60de735468a"
	mysqlSpecVer    = "1.0"
	basicAuthSpec   = "Basic Authentication"
	passwordEnvVar  = "BENCH_DB_PASSWORD"
	benchPassword   = "bench-password-not-a-secret"
	connectionsPath = "/data/foundation/flowservice/connections"
)

func connectionName(i int) string { return fmt.Sprintf("bench-%06d", i) }

// manifestYAML returns manifest i. The password comes from the environment,
// as a real manifest's would.
func manifestYAML(i int) []byte {
	return fmt.Appendf(nil, `name: %s
description: Benchmark connection %d
connectionSpec:
  id: %s
  version: "%s"
auth:
  specName: %s
  params:
    server: db-%06d.example.com
    port: "3306"
    database: orders
    username: reader
    password: ${%s}
    sslMode: PREFERRED
`, connectionName(i), i, mysqlSpecID, mysqlSpecVer, basicAuthSpec, i, passwordEnvVar)
}

// requestBody returns the POST /connections body that creates the same
// connection as manifest i, for the curl alternatives.
func requestBody(i int) ([]byte, error) {
	body := map[string]any{
		"name":        connectionName(i),
		"description": fmt.Sprintf("Benchmark connection %d", i),
		"connectionSpec": map[string]string{
			"id":      mysqlSpecID,
			"version": mysqlSpecVer,
		},
		"auth": map[string]any{
			"specName": basicAuthSpec,
			"params": map[string]string{
				"server":   fmt.Sprintf("db-%06d.example.com", i),
				"port":     "3306",
				"database": "orders",
				"username": "reader",
				"password": benchPassword,
				"sslMode":  "PREFERRED",
			},
		},
	}
	return json.Marshal(body)
}

// writeManifests writes n manifests, one file each, into a new directory
// under root and returns its path.
func writeManifests(root string, n int) (string, error) {
	dir := filepath.Join(root, fmt.Sprintf("manifests-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for i := 1; i <= n; i++ {
		path := filepath.Join(dir, connectionName(i)+".yaml")
		if err := os.WriteFile(path, manifestYAML(i), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// writeBodies writes n JSON request bodies into a new directory under root
// and returns its path.
func writeBodies(root string, n int) (string, error) {
	dir := filepath.Join(root, fmt.Sprintf("bodies-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for i := 1; i <= n; i++ {
		body, err := requestBody(i)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, connectionName(i)+".json")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// The two shell alternatives. Both read URL and BODIES from the environment
// and the credentials from the same variables as apply.
const (
	sequentialCurlScript = `#!/usr/bin/env bash
# One POST per JSON body, one at a time, as a shell loop over Adobe's tutorial request would.
set -u
for f in "$BODIES"/*.json; do
  curl -sS -o /dev/null -X POST "$URL` + connectionsPath + `" \
    -H "Authorization: Bearer $AEP_ACCESS_TOKEN" \
    -H "x-api-key: $AEP_API_KEY" \
    -H "x-gw-ims-org-id: $AEP_ORG_ID" \
    -H "x-sandbox-name: $AEP_SANDBOX_NAME" \
    -H "Content-Type: application/json" \
    --data-binary "@$f"
done
`
	xargsCurlScript = `#!/usr/bin/env bash
# The same POSTs, PARALLEL at a time, with xargs -P.
set -u
find "$BODIES" -name '*.json' -print0 |
  xargs -0 -P "$PARALLEL" -I{} curl -sS -o /dev/null -X POST "$URL` + connectionsPath + `" \
    -H "Authorization: Bearer $AEP_ACCESS_TOKEN" \
    -H "x-api-key: $AEP_API_KEY" \
    -H "x-gw-ims-org-id: $AEP_ORG_ID" \
    -H "x-sandbox-name: $AEP_SANDBOX_NAME" \
    -H "Content-Type: application/json" \
    --data-binary @{}
`
)

// writeScripts writes the two curl alternatives into root and returns their
// paths.
func writeScripts(root string) (sequential, parallel string, err error) {
	sequential = filepath.Join(root, "curl-sequential.sh")
	parallel = filepath.Join(root, "curl-xargs.sh")
	if err := os.WriteFile(sequential, []byte(sequentialCurlScript), 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(parallel, []byte(xargsCurlScript), 0o755); err != nil {
		return "", "", err
	}
	return sequential, parallel, nil
}
