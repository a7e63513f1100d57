package emulator_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func TestStatsCountRequests(t *testing.T) {
	e, srv := start(t, emulator.Options{})
	create(t, srv, mysqlBody("orders"))
	do(t, srv, "GET", base+"/connections", nil, nil)
	do(t, srv, "GET", base+"/connections/unknown", nil, nil)
	do(t, srv, "GET", base+"/connections", http.Header{}, nil)

	want := emulator.Stats{
		Requests:    4,
		ByMethod:    map[string]int64{"POST": 1, "GET": 3},
		ByStatus:    map[int]int64{201: 1, 200: 1, 404: 1, 403: 1},
		Connections: 1,
	}
	if diff := cmp.Diff(want, e.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	// The stats endpoints need no credentials and are not counted.
	res := do(t, srv, "GET", emulator.StatsPath, http.Header{}, nil)
	var served emulator.Stats
	if err := json.Unmarshal(res.body, &served); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	if diff := cmp.Diff(want, served); diff != "" {
		t.Errorf("GET %s (-want +got):\n%s", emulator.StatsPath, diff)
	}

	if res := do(t, srv, "POST", emulator.StatsResetPath, http.Header{}, nil); res.status != 204 {
		t.Errorf("reset: status %d", res.status)
	}
	want = emulator.Stats{ByMethod: map[string]int64{}, ByStatus: map[int]int64{}, Connections: 1}
	if diff := cmp.Diff(want, e.Stats()); diff != "" {
		t.Errorf("Stats after reset (-want +got):\n%s", diff)
	}
	if res := do(t, srv, "POST", emulator.StatsPath, http.Header{}, nil); res.status != 405 {
		t.Errorf("POST %s: status %d, want 405", emulator.StatsPath, res.status)
	}
}
