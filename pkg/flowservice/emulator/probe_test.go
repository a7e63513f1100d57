package emulator_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/internal/dbtest"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// database is a throwaway MariaDB server shared by the tests of the test
// and explore endpoints, started by the first of them and stopped by
// TestMain.
var database struct {
	once sync.Once
	srv  *dbtest.Server
	err  error
}

const dbPassword = "probe-" + canary

func startDatabase(t *testing.T) *dbtest.Server {
	t.Helper()
	database.once.Do(func() {
		ctx := context.Background()
		database.srv, database.err = dbtest.Start(ctx, dbtest.Options{})
		if database.err != nil {
			return
		}
		database.err = database.srv.Exec(ctx,
			"CREATE DATABASE acme",
			"CREATE TABLE acme.orders (id INT)",
			"CREATE TABLE acme.customers (id INT)",
			"CREATE USER 'acme'@'%' IDENTIFIED BY '"+dbPassword+"'",
			"GRANT ALL ON acme.* TO 'acme'@'%'",
		)
	})
	if database.err != nil {
		t.Fatalf("start MariaDB: %v", database.err)
	}
	return database.srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if database.srv != nil {
		database.srv.Stop()
	}
	os.Exit(code)
}

// databaseBody returns a create body for a MySQL connection to db.
func databaseBody(db *dbtest.Server, password string) map[string]any {
	b := mysqlBody("acme")
	b["auth"] = map[string]any{
		"specName": "Basic Authentication",
		"params": map[string]any{
			"server": db.Host, "port": strconv.Itoa(db.Port), "database": "acme",
			"username": "acme", "password": password, "sslMode": "DISABLED",
		},
	}
	return b
}

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return port
}

func TestConnectionTest(t *testing.T) {
	db := startDatabase(t)
	_, srv := start(t, emulator.Options{})

	unreachable := databaseBody(db, dbPassword)
	unreachable["auth"].(map[string]any)["params"].(map[string]any)["port"] = closedPort(t)
	salesforce := mysqlBody("crm")
	salesforce["connectionSpec"] = map[string]any{"id": "cfc0fee1-7dc0-40ef-b73e-d8b134c436f5", "version": "1.0"}
	salesforce["auth"] = map[string]any{"specName": "Basic Authentication",
		"params": map[string]any{"username": "u", "password": canary}}

	tests := []struct {
		name string
		body map[string]any
		want bool
	}{
		{"reachable database", databaseBody(db, dbPassword), true},
		{"wrong password", databaseBody(db, "wrong-"+canary), false},
		{"nothing listening", unreachable, false},
		{"source that cannot be checked", salesforce, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, _ := create(t, srv, tt.body)
			res := do(t, srv, "GET", base+"/connections/"+id+"/test", nil, nil)
			if res.status != 200 {
				t.Fatalf("status %d, body %s", res.status, res.body)
			}
			if diff := cmp.Diff(map[string]any{"result": tt.want}, res.object(t)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}

	res := do(t, srv, "GET", base+"/connections/0a0a0a0a-0000-4000-8000-000000000000/test", nil, nil)
	if res.status != 404 || errorCode(t, res) != "1101-404" {
		t.Errorf("unknown id: status %d, body %s", res.status, res.body)
	}
}

func TestConnectionExplore(t *testing.T) {
	db := startDatabase(t)
	_, srv := start(t, emulator.Options{})

	id, _ := create(t, srv, databaseBody(db, dbPassword))
	res := do(t, srv, "GET", base+"/connections/"+id+"/explore?objectType=root", nil, nil)
	if res.status != 200 {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	want := `[{"type":"table","name":"customers","path":"customers","canPreview":true,"canFetchSchema":true},` +
		`{"type":"table","name":"orders","path":"orders","canPreview":true,"canFetchSchema":true}]` + "\n"
	if got := string(res.body); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}

	bad, _ := create(t, srv, databaseBody(db, "wrong-"+canary))
	res = do(t, srv, "GET", base+"/connections/"+bad+"/explore?objectType=root", nil, nil)
	if res.status != 400 || errorCode(t, res) != "1100-400" {
		t.Errorf("wrong password: status %d, body %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), canary) {
		t.Errorf("error body shows the secret: %s", res.body)
	}

	res = do(t, srv, "GET", base+"/connections/"+id+"/explore?objectType=table", nil, nil)
	if res.status != 400 || errorCode(t, res) != "1452-400" {
		t.Errorf("objectType=table: status %d, body %s", res.status, res.body)
	}
}
