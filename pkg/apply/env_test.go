package apply

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/pkg/spec"
)

const (
	mysqlSpecID   = "26d738e0-8963-47ea-aadf-c60de735468a"
	mariadbSpecID = "3000eb99-cd47-43f3-827c-43caf170f015"
	testOrg       = "5C1328435BF324E90A49402A@AdobeOrg"
	testSandbox   = "prod"

	// secretCanary is planted as a password. No output, log, error or lock
	// file may ever contain it.
	secretCanary = "CANARY-s3cr3t-9f8e7d"
)

// testEnv is an emulator on loopback, a client for it, and a folder for
// manifests and the lock file.
type testEnv struct {
	t        *testing.T
	emu      *emulator.Emulator
	srv      *httptest.Server
	client   *flowservice.Client
	dir      string
	lockPath string
	logs     *syncBuffer

	inFlight atomic.Int64 // requests the emulator is serving now
	writes   atomic.Int64 // POST, PATCH and DELETE requests received

	// intercept, when set, runs before the emulator for every request.
	intercept atomic.Pointer[func(*http.Request)]

	// serve, when set, runs after intercept for every request and serves
	// it in place of the emulator when it returns true.
	serve atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]

	// delay delays every request this long before passing it to the
	// emulator, unless the client gives up first.
	delay atomic.Int64

	// createDelay, when set, delays every create this long before passing
	// it to the emulator. The emulator then finishes the create even if
	// the client went away, as a real service does, so the create of a
	// killed process still lands that long after it was sent.
	createDelay atomic.Int64

	// garbleCreates, when set, replaces the body of every successful
	// create response with text that is not JSON, after the emulator made
	// the connection.
	garbleCreates atomic.Bool
}

func newTestEnv(t *testing.T, opts emulator.Options) *testEnv {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	env := &testEnv{t: t, emu: emu, dir: t.TempDir(), logs: new(syncBuffer)}
	env.lockPath = filepath.Join(env.dir, "apply.lock.json")
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.inFlight.Add(1)
		defer env.inFlight.Add(-1)
		if r.Method != http.MethodGet {
			env.writes.Add(1)
		}
		if f := env.intercept.Load(); f != nil {
			(*f)(r)
		}
		if f := env.serve.Load(); f != nil && (*f)(w, r) {
			return
		}
		if d := time.Duration(env.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		if d := time.Duration(env.createDelay.Load()); d > 0 && r.Method == http.MethodPost {
			time.Sleep(d)
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		if env.garbleCreates.Load() && r.Method == http.MethodPost {
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, r)
			w.WriteHeader(rec.Code)
			if rec.Code/100 == 2 {
				io.WriteString(w, "<html>proxy error</html>")
			} else {
				w.Write(rec.Body.Bytes())
			}
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		env.srv.Close()
		emu.Close()
	})
	env.client = env.newClient(t)
	return env
}

func (env *testEnv) newClient(t *testing.T) *flowservice.Client {
	t.Helper()
	client, err := flowservice.New(flowservice.Config{
		Endpoint:   env.srv.URL,
		APIKey:     "apply-tests",
		OrgID:      testOrg,
		Sandbox:    testSandbox,
		Token:      flowservice.StaticToken("test-token"),
		MaxBackoff: 20 * time.Millisecond,
		Logger:     newTestLogger(env.logs),
	})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return client
}

// testPendingGrace is Config.PendingGrace in tests: longer than the
// latency of the emulators they run, far shorter than the default.
const testPendingGrace = 250 * time.Millisecond

// config returns a configuration for a normal run with the lock key set.
func (env *testEnv) config() Config {
	return Config{
		Client:       env.client,
		Target:       Target{Endpoint: env.srv.URL, OrgID: testOrg, Sandbox: testSandbox},
		LockPath:     env.lockPath,
		LockTimeout:  time.Second,
		LockKey:      []byte("test lock key"),
		PendingGrace: testPendingGrace,
		Refresh:      true,
		Logger:       newTestLogger(env.logs),
	}
}

// run opens a session, plans manifests and, unless cfg.DryRun is set,
// applies the plan. It fails the test if opening or planning fails.
func (env *testEnv) run(t *testing.T, cfg Config, manifests []*spec.Manifest) (*Plan, *Report, error) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, manifests)
	if err != nil {
		return p, nil, err
	}
	if cfg.DryRun {
		return p, nil, nil
	}
	r, err := s.Apply(ctx, p, nil)
	return p, r, err
}

// mustApply runs and fails the test on any error.
func (env *testEnv) mustApply(t *testing.T, cfg Config, manifests []*spec.Manifest) (*Plan, *Report) {
	t.Helper()
	p, r, err := env.run(t, cfg, manifests)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p, r
}

// remote returns every connection in the test sandbox, sorted by name then id.
func (env *testEnv) remote(t *testing.T) []flowservice.Connection {
	t.Helper()
	conns, err := env.client.ListConnections(context.Background(), flowservice.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatalf("list connections: %v", err)
	}
	sort.Slice(conns, func(i, j int) bool {
		if conns[i].Name != conns[j].Name {
			return conns[i].Name < conns[j].Name
		}
		return conns[i].ID < conns[j].ID
	})
	return conns
}

// readLock decodes the lock file, failing the test if it is invalid.
func (env *testEnv) readLock(t *testing.T) *lockFile {
	t.Helper()
	data, err := os.ReadFile(env.lockPath)
	if err != nil {
		t.Fatalf("read lock file: %v", err)
	}
	l, err := decodeLock(data)
	if err != nil {
		t.Fatalf("lock file is invalid: %v\n%s", err, data)
	}
	if !bytes.Equal(l.encode(), data) {
		t.Errorf("lock file is not in normal form:\n%s", data)
	}
	return l
}

// assertConverged checks that the sandbox contains exactly one connection per
// manifest, with the manifest's name, and that the lock file maps each
// name to it with nothing pending.
func (env *testEnv) assertConverged(t *testing.T, manifests []*spec.Manifest) {
	t.Helper()
	conns := env.remote(t)
	byName := make(map[string][]string)
	for _, c := range conns {
		byName[c.Name] = append(byName[c.Name], c.ID)
	}
	l := env.readLock(t)
	for _, m := range manifests {
		ids := byName[m.Name]
		if len(ids) != 1 {
			t.Errorf("remote connections named %q: %v, want exactly one", m.Name, ids)
			continue
		}
		e := l.Entries[m.Name]
		switch {
		case e == nil:
			t.Errorf("lock file has no entry for %q", m.Name)
		case e.Pending:
			t.Errorf("lock entry %q is still pending", m.Name)
		case e.ID != ids[0]:
			t.Errorf("lock entry %q has id %s, want %s", m.Name, e.ID, ids[0])
		}
	}
	if len(conns) != len(manifests) {
		t.Errorf("sandbox holds %d connections, want %d", len(conns), len(manifests))
	}
	if len(l.Entries) != len(manifests) {
		t.Errorf("lock file has %d entries, want %d", len(l.Entries), len(manifests))
	}
}

// waitIdle waits until the emulator serves no request, so that a request
// of a killed process cannot change the state after the test looked.
func (env *testEnv) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for env.inFlight.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("emulator still serves %d requests", env.inFlight.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// manifestSet writes manifests as YAML files and loads them with the real
// loader, so that tests see what users' files produce.
type manifestSet struct {
	dir  string
	env  map[string]string
	docs map[string]string // file name -> YAML

	// allowUnresolved loads unset variables as unresolved values, as a
	// dry run does.
	allowUnresolved bool
}

func newManifestSet(dir string) *manifestSet {
	return &manifestSet{dir: dir, env: make(map[string]string), docs: make(map[string]string)}
}

// mysql adds a MySQL manifest with basic auth whose password comes from a
// variable containing password.
func (ms *manifestSet) mysql(name, description, password string, extra ...string) {
	variable := "PW_" + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(name))
	ms.env[variable] = password
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", name)
	if description != "" {
		fmt.Fprintf(&b, "description: %q\n", description)
	}
	for _, line := range extra {
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, `connectionSpec:
  id: %s
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: db.example.internal
    port: "3306"
    database: %s
    username: ingest
    password: ${%s}
    sslMode: PREFERRED
`, mysqlSpecID, name, variable)
	ms.docs[name+".yaml"] = b.String()
}

// raw adds a manifest file as given.
func (ms *manifestSet) raw(file, yaml string) { ms.docs[file] = yaml }

func (ms *manifestSet) remove(name string) { delete(ms.docs, name+".yaml") }

// load writes the files into a fresh folder and loads them.
func (ms *manifestSet) load(t *testing.T) []*spec.Manifest {
	t.Helper()
	dir, err := os.MkdirTemp(ms.dir, "manifests-")
	if err != nil {
		t.Fatal(err)
	}
	for file, doc := range ms.docs {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(ms.docs) == 0 {
		return nil
	}
	res, err := spec.Load([]string{dir}, spec.LoadOptions{
		LookupEnv: func(name string) (string, bool) {
			v, ok := ms.env[name]
			return v, ok
		},
		AllowUnresolved: ms.allowUnresolved,
	})
	if err != nil {
		t.Fatalf("load manifests: %v", err)
	}
	return res.Manifests
}

// withSpec switches the manifest named name to another connection spec.
func (ms *manifestSet) withSpec(name, specID string) {
	ms.docs[name+".yaml"] = strings.Replace(ms.docs[name+".yaml"], "id: "+mysqlSpecID, "id: "+specID, 1)
}

func newTestLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
