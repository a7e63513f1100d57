package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// syntheticResults returns results for the full matrix in which every create
// takes wallFactor times its ideal.
func syntheticResults(cfg config, wallFactor float64) *results {
	res := &results{
		Started:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Create:     map[int]map[int]runResult{},
		Sequential: map[int]runResult{},
		Xargs:      map[int]runResult{},
	}
	res.Finished = res.Started.Add(8 * time.Minute)
	scaled := func(d time.Duration) Measurement {
		return Measurement{Wall: time.Duration(float64(d) * wallFactor), MaxRSS: 30 << 20}
	}
	for _, n := range cfg.CreateSizes {
		res.Create[n] = map[int]runResult{}
		for _, p := range cfg.Parallelism {
			st := emulatorStats{Requests: n, ByMethod: map[string]int{"POST": n}, ByStatus: map[int]int{201: n}, Connections: n}
			res.Create[n][p] = runResult{M: scaled(idealCreate(n, p, cfg.Latency)), Stats: st}
		}
		res.Sequential[n] = runResult{M: scaled(2 * idealCreate(n, 1, cfg.Latency))}
		res.Xargs[n] = runResult{M: scaled(2 * idealCreate(n, cfg.XargsParallel, cfg.Latency))}
	}
	for _, size := range cfg.PlanSizes {
		res.Plan = append(res.Plan, planResult{
			Size:  size,
			Plan:  []Measurement{{Wall: time.Duration(size) * 20 * time.Microsecond, MaxRSS: 300 << 20}},
			Parse: []Measurement{{Wall: time.Duration(size) * 10 * time.Microsecond, MaxRSS: 20 << 20}},
		})
	}
	res.Rate = []rateResult{{R: runResult{
		M:     Measurement{Wall: 11 * time.Second},
		Stats: emulatorStats{Requests: 1100, RateLimited: 100},
	}}}
	return res
}

func TestReportTargets(t *testing.T) {
	cfg := fullConfig()
	tests := []struct {
		name       string
		wallFactor float64
		want       []string // rows of the targets table that must appear
	}{
		{"near ideal", 1.05, []string{
			"| apply N=1000, p=16 within 1.15× of the ideal | 3.31 s / 3.15 s = 1.05× | yes |",
			"apply p=16 at least as fast as `xargs -P 16 curl`, N=1000 | 3.31 s vs 6.62 s (xargs / apply = 2.00×) | yes |",
			"| plan of 10000 manifests under 3× the bare YAML parse | 0.200 s vs 0.100 s (2.00×) | yes |",
			"| plan of 10000 manifests under 200 MB peak RSS | 300.0 MB | no |",
			"within 1.2× of N / rate | 11.00 s / 10.00 s = 1.10× | yes |",
			"fewer than 5% of requests get a 429 response | 100 of 1100 (9.1%) | no |",
		}},
		{"slow", 1.5, []string{
			"| apply N=1000, p=16 within 1.15× of the ideal | 4.72 s / 3.15 s = 1.50× | no |",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report{Cfg: cfg, Res: syntheticResults(cfg, tt.wallFactor), PlotFile: "plot.png"}
			md := r.markdown()
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if strings.Contains(md, "## Failed runs") {
				t.Errorf("report lists failed runs, want none")
			}
		})
	}
}

func TestReportFailedRun(t *testing.T) {
	cfg := fullConfig()
	res := syntheticResults(cfg, 1)
	res.Create[1000][16] = runResult{Err: os.ErrDeadlineExceeded}
	r := report{Cfg: cfg, Res: res}
	md := r.markdown()
	if !strings.Contains(md, "| 1000 | 16 | failed |") {
		t.Errorf("table 1 does not mark N=1000 p=16 as failed")
	}
	if !strings.Contains(md, "within 1.15× of the ideal | 0.000 s / 3.15 s = n/a | not measured |") {
		t.Errorf("targets table does not mark the failed target as not measured")
	}
	if !strings.Contains(md, "- apply N=1000 p=16: i/o timeout") {
		t.Errorf("failed runs section lacks the error")
	}
}

func TestDrawThroughputWritesPNG(t *testing.T) {
	cfg := fullConfig()
	path := filepath.Join(t.TempDir(), "plot.png")
	if err := drawThroughput(cfg, syntheticResults(cfg, 1.1), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", path)
	}
}

func TestIdealCreate(t *testing.T) {
	tests := []struct {
		n, p int
		want time.Duration
	}{
		{100, 1, 5 * time.Second},
		{100, 64, 100 * time.Millisecond},
		{1000, 16, 3150 * time.Millisecond},
		{5000, 64, 3950 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := idealCreate(tt.n, tt.p, 50*time.Millisecond); got != tt.want {
			t.Errorf("idealCreate(%d, %d, 50ms) = %s, want %s", tt.n, tt.p, got, tt.want)
		}
	}
}
