package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func TestListenAndServeRejectsNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:8080", "example.com:80", "127.0.0.1"} {
		err := emulator.ListenAndServe(context.Background(), addr, emulator.Options{}, func(string) {
			t.Errorf("%s: ready called", addr)
		})
		if err == nil {
			t.Errorf("ListenAndServe(%q): no error", addr)
		}
	}
}

func TestListenAndServeRunsUntilCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- emulator.ListenAndServe(ctx, "127.0.0.1:0", emulator.Options{StatePath: path},
			func(url string) { urls <- url })
	}()

	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("ListenAndServe returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("ready not called within 10s")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url = %q, want http://127.0.0.1:PORT", url)
	}

	body, _ := json.Marshal(mysqlBody("orders"))
	req, _ := http.NewRequest("POST", url+base+"/connections", bytes.NewReader(body))
	req.Header = apiHeaders()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Errorf("create: status %d, want 201", res.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return within 10s of cancellation")
	}
	// Close saved the state and released the lock, so another emulator
	// can open it.
	e, err := emulator.New(emulator.Options{StatePath: path})
	if err != nil {
		t.Fatalf("New after shutdown: %v", err)
	}
	defer e.Close()
	if n := e.Stats().Connections; n != 1 {
		t.Errorf("connections after restart = %d, want 1", n)
	}
}
