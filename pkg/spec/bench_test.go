package spec

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

const benchManifests = 10_000

// writeBenchManifests writes benchManifests small MySQL manifests to a new
// directory and returns it with the file paths.
func writeBenchManifests(b *testing.B) (string, []string) {
	b.Helper()
	dir := b.TempDir()
	paths := make([]string, benchManifests)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("conn-%05d.yaml", i))
		text := fmt.Sprintf(`# yaml-language-server: $schema=../schemas/manifest.schema.json
name: conn-%05d
description: Benchmark connection %d
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: db-%d.example.internal
    port: 3306
    database: orders
    username: ingest
    password: ${BENCH_PASSWORD}
    sslMode: PREFERRED
`, i, i, i)
		if err := os.WriteFile(paths[i], []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir, paths
}

func BenchmarkLoad10000(b *testing.B) {
	dir, _ := writeBenchManifests(b)
	opts := LoadOptions{
		LookupEnv: lookupIn(map[string]string{"BENCH_PASSWORD": "pw"}),
		Logger:    slog.New(slog.DiscardHandler),
	}
	for b.Loop() {
		res, err := Load([]string{dir}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Manifests) != benchManifests {
			b.Fatalf("loaded %d manifests", len(res.Manifests))
		}
	}
}

// BenchmarkYAMLUnmarshal10000 is the baseline for BenchmarkLoad10000: reading
// the same files and decoding each into a map, with no validation.
func BenchmarkYAMLUnmarshal10000(b *testing.B) {
	_, paths := writeBenchManifests(b)
	for b.Loop() {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			var m map[string]any
			if err := yaml.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}
