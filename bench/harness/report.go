package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// report renders the results as docs/benchmarks.md.
type report struct {
	Cfg      config
	Res      *results
	Machine  machine
	Command  string
	Quick    bool
	PlotFile string
	Limits   string    // Markdown of the "What limits it" section
	Launched time.Time // when bench/run started, before its builds; zero if unknown

	failures []string
}

func (r *report) markdown() string {
	var b strings.Builder
	r.header(&b)
	r.method(&b)
	r.load(&b)
	r.targets(&b)
	r.throughput(&b)
	r.alternatives(&b)
	r.plan(&b)
	r.noop(&b)
	r.rate(&b)
	b.WriteString("## What limits it\n\n")
	if r.Limits != "" {
		b.WriteString(strings.TrimSpace(r.Limits) + "\n\n")
	} else {
		b.WriteString("No analysis was written for this run.\n\n")
	}
	if len(r.failures) > 0 {
		b.WriteString("## Failed runs\n\n")
		for _, f := range r.failures {
			fmt.Fprintf(&b, "- %s\n", oneLine(f))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (r *report) header(b *strings.Builder) {
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("How fast `apply` creates and plans Flow Service connections, measured against its " +
		"emulator on loopback, side by side with the `curl` scripts a user would write instead. " +
		"`bench/run` writes this page and the plot; edit `bench/harness/` or `bench/limits.md` " +
		"and run it again rather than editing this file.\n\n")
	if r.Quick {
		b.WriteString("**This is the output of a quick run (`-quick`), a small matrix that checks the " +
			"harness. Its numbers are not the published benchmark.**\n\n")
	}
	fmt.Fprintf(b, "- Date: %s; the measurements took %s", r.Res.Started.UTC().Format("2006-01-02 15:04 MST"),
		r.Res.Finished.Sub(r.Res.Started).Round(time.Second))
	if !r.Launched.IsZero() {
		fmt.Fprintf(b, ", and the whole command, builds included, %s", r.Res.Finished.Sub(r.Launched).Round(time.Second))
	}
	b.WriteString(".\n")
	fmt.Fprintf(b, "- Command: `%s`\n", r.Command)
	fmt.Fprintf(b, "- CPU: %s, %d cores; memory: %.1f GiB\n", m.CPU, m.Cores, m.MemoryGiB)
	fmt.Fprintf(b, "- OS: %s (%s)\n", m.OS, m.Kernel)
	fmt.Fprintf(b, "- Go: %s\n", m.Go)
	fmt.Fprintf(b, "- curl: %s\n\n", m.Curl)
}

func (r *report) method(b *strings.Builder) {
	fmt.Fprintf(b, `## Method

- Every measurement runs against a fresh %[1]s process with its own
  in-memory state, listening on 127.0.0.1. Every request waits %[2]s in the
  emulator before it is answered.
- Wall time runs from the start of the measured process to its exit. Peak RSS
  is the ru_maxrss the kernel reports when the process exits. Every measured
  process is started by a small trampoline (bench/measure) because ru_maxrss
  also counts the memory of the process that forked the child; the floor the
  trampoline adds is about 2.5 MB. For the curl scripts peak RSS is that of the
  largest single process of the script (bash or one curl), not the sum of the
  curl processes running at once.
- The ideal of N creates at parallelism p is ceil(N / p) × %[2]s: every request
  takes exactly the latency and nothing else costs time.
- After every create run the harness checks the exit status and that the
  emulator answered exactly N POST requests with 201.
- apply runs with `+"`--endpoint URL --lock FILE --parallelism P`"+` and the
  credentials in AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_ORG_ID and
  AEP_SANDBOX_NAME; the password of every manifest is `+"`${%[3]s}`"+`.
- The curl scripts post prepared JSON bodies: they do no validation, keep no
  lock file and skip the YAML-to-JSON step, so they do less work than apply.
- **Side by side:** the purely latency-bound runs, apply at parallelism 1 and
  the sequential curl loop for every N, run at the same time, each against its
  own emulator (%[5]d runs, marked † in the tables). Each spends
  almost all of its time waiting on the emulator's latency, and run one after
  another they alone would take about %[4]s, which does not fit the 10-minute
  budget on 2 cores. Everything else, including every run at parallelism above
  1, runs alone. The CPU columns show how little CPU the side-by-side runs
  used; compare their wall time with the ideal to see what the sharing cost.
  During the same phase the lock files of table 3 are written (a setup step,
  not a measurement) at idle CPU and IO priority (`+"`chrt --idle 0 ionice -c 3`"+`),
  so that they get the CPU and the disk only when the measured runs leave
  them idle.

`, "`apply emulator --latency "+r.Cfg.Latency.String()+"`", r.Cfg.Latency, passwordEnvVar,
		r.sequentialIdeal().Round(time.Second), 2*len(r.Cfg.CreateSizes))
}

func (r *report) load(b *strings.Builder) {
	b.WriteString("## Host load\n\n")
	b.WriteString("The machine may be shared. CPU time per second of wall time (so 2.0 means both cores of a " +
		"2-core machine busy), for the processes of the benchmark and for everything else. Everything else " +
		"includes time stolen by the hypervisor; a large value there means the wall times below are slower " +
		"than the machine alone would give.\n\n")
	b.WriteString("| phase | wall | benchmark CPU | other CPU |\n|---|---:|---:|---:|\n")
	for _, p := range r.Res.Phases {
		secs := p.Wall.Seconds()
		if secs <= 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %.2f | %.2f |\n", p.Name, p.Wall.Round(time.Second),
			p.Bench.Seconds()/secs, p.Others().Seconds()/secs)
	}
	b.WriteString("\n")
}

// sequentialIdeal is the ideal time of every latency-bound run one after another.
func (r *report) sequentialIdeal() time.Duration {
	var total time.Duration
	for _, n := range r.Cfg.CreateSizes {
		total += 2 * idealCreate(n, 1, r.Cfg.Latency)
	}
	return total
}

func (r *report) targets(b *strings.Builder) {
	b.WriteString("## Targets\n\n")
	b.WriteString("| Target | Measured | Met |\n|---|---|---|\n")
	row := func(target, measured string, ok, known bool) {
		verdict := "no"
		switch {
		case !known:
			verdict = "not measured"
		case ok:
			verdict = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", target, measured, verdict)
	}

	n, p := 1000, 16
	if r.Quick {
		n = r.Cfg.CreateSizes[len(r.Cfg.CreateSizes)-1]
	}
	c, ok := r.Res.Create[n][p]
	ideal := idealCreate(n, p, r.Cfg.Latency)
	known := ok && c.Err == nil
	row(fmt.Sprintf("apply N=%d, p=%d within 1.15× of the ideal", n, p),
		fmt.Sprintf("%s / %s = %s", secs(c.M.Wall), secs(ideal), ratio(c.M.Wall, ideal)),
		known && c.M.Wall <= ideal*115/100, known)

	for _, n := range r.Cfg.CreateSizes {
		a, x := r.Res.Create[n][r.Cfg.XargsParallel], r.Res.Xargs[n]
		known := a.Err == nil && x.Err == nil && a.M.Wall > 0
		row(fmt.Sprintf("apply p=%d at least as fast as `xargs -P %d curl`, N=%d", r.Cfg.XargsParallel, r.Cfg.XargsParallel, n),
			fmt.Sprintf("%s vs %s (xargs / apply = %s)", secs(a.M.Wall), secs(x.M.Wall), ratio(x.M.Wall, a.M.Wall)),
			known && a.M.Wall <= x.M.Wall, known)
	}
	for _, n := range r.Cfg.CreateSizes {
		a, s := r.Res.Create[n][r.Cfg.XargsParallel], r.Res.Sequential[n]
		known := a.Err == nil && s.Err == nil && a.M.Wall > 0
		row(fmt.Sprintf("apply p=%d at least 10× faster than the sequential curl loop, N=%d", r.Cfg.XargsParallel, n),
			fmt.Sprintf("%s vs %s (%s)", secs(a.M.Wall), secs(s.M.Wall), ratio(s.M.Wall, a.M.Wall)),
			known && s.M.Wall >= 10*a.M.Wall, known)
	}

	size := 10000
	if r.Quick {
		size = r.Cfg.PlanSizes[len(r.Cfg.PlanSizes)-1]
	}
	for _, pr := range r.Res.Plan {
		if pr.Size != size {
			continue
		}
		known := pr.PlanErr == nil && pr.ParseErr == nil && len(pr.Plan) > 0 && len(pr.Parse) > 0
		plan, parse := median(pr.Plan), median(pr.Parse)
		row(fmt.Sprintf("plan of %d manifests under 3× the bare YAML parse", size),
			fmt.Sprintf("%s vs %s (%s)", secs(plan.Wall), secs(parse.Wall), ratio(plan.Wall, parse.Wall)),
			known && plan.Wall < 3*parse.Wall, known)
		row(fmt.Sprintf("plan of %d manifests under 200 MB peak RSS", size),
			fmt.Sprintf("%.1f MB", mb(plan.MaxRSS)), known && plan.MaxRSS < 200<<20, known)
	}

	idealRate := r.rateIdeal()
	for _, rr := range r.Res.Rate {
		known := rr.R.Err == nil
		share := throttledShare(rr.R.Stats)
		row(fmt.Sprintf("under a %g/s rate limit (%s): within 1.2× of N / rate", r.Cfg.Rate, clientLimit(rr.ClientRate)),
			fmt.Sprintf("%s / %s = %s", secs(rr.R.M.Wall), secs(idealRate), ratio(rr.R.M.Wall, idealRate)),
			known && rr.R.M.Wall <= idealRate*120/100, known)
		row(fmt.Sprintf("under a %g/s rate limit (%s): fewer than 5%% of requests get a 429 response", r.Cfg.Rate, clientLimit(rr.ClientRate)),
			fmt.Sprintf("%d of %d (%.1f%%)", rr.R.Stats.RateLimited, rr.R.Stats.Requests, 100*share),
			known && share < 0.05, known)
	}
	b.WriteString("\n")
}

func (r *report) rateIdeal() time.Duration {
	return time.Duration(float64(r.Cfg.RateSize) / r.Cfg.Rate * float64(time.Second))
}

func clientLimit(rate float64) string {
	if rate == 0 {
		return "no client-side limit"
	}
	return fmt.Sprintf("apply --rate-limit %g", rate)
}

// throttledShare is the fraction of requests that got a 429 response.
func throttledShare(s emulatorStats) float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.RateLimited) / float64(s.Requests)
}

// latencyBound reports whether a create run was one of the side-by-side runs.
func latencyBound(p int) bool { return p == 1 }

func (r *report) throughput(b *strings.Builder) {
	fmt.Fprintf(b, "## 1. Apply throughput\n\n")
	fmt.Fprintf(b, "N fresh manifests created by `apply` against `apply emulator --latency %s`.\n\n", r.Cfg.Latency)
	b.WriteString("| N | parallelism | wall | ideal | wall / ideal | connections/s | peak RSS | apply CPU | emulator CPU | requests |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range r.Cfg.CreateSizes {
		for _, p := range r.Cfg.Parallelism {
			res := r.Res.Create[n][p]
			mark := ""
			if latencyBound(p) {
				mark = " †"
			}
			if res.Err != nil {
				r.fail(fmt.Sprintf("apply N=%d p=%d", n, p), res.Err)
				fmt.Fprintf(b, "| %d | %d%s | failed | | | | | | | |\n", n, p, mark)
				continue
			}
			ideal := idealCreate(n, p, r.Cfg.Latency)
			fmt.Fprintf(b, "| %d | %d%s | %s | %s | %s | %.0f | %.1f MB | %s | %s | %d |\n",
				n, p, mark, secs(res.M.Wall), secs(ideal), ratio(res.M.Wall, ideal),
				float64(n)/res.M.Wall.Seconds(), mb(res.M.MaxRSS), secs(res.M.CPU()), secs(res.EmulatorCPU),
				res.Stats.Requests)
		}
	}
	b.WriteString("\n† run side by side with the other latency-bound runs (see Method).\n\n")
	b.WriteString("CPU is user plus system time. The emulator's includes its start, the counter reads and its " +
		"stop. Requests are all requests the emulator received: the creates and the listings apply sends " +
		"before it plans.\n\n")
	fmt.Fprintf(b, "![Throughput against parallelism](%s)\n\n", r.PlotFile)
	b.WriteString("Connections per second against parallelism, both axes logarithmic; dashed lines are the ideal N / (ceil(N / p) × latency) of each N.\n\n")
}

func (r *report) alternatives(b *strings.Builder) {
	px := r.Cfg.XargsParallel
	b.WriteString("## 2. The alternatives a user would write instead\n\n")
	b.WriteString("The same connections created by a sequential `curl` loop and by `xargs -P " +
		fmt.Sprint(px) + " curl`, each against its own fresh emulator with the same latency. " +
		"A ratio above 1 means the script took longer than apply.\n\n")
	fmt.Fprintf(b, "| N | sequential curl † | / apply p=1 † | / apply p=%d | xargs -P %d curl | / apply p=%d | script peak RSS (seq, xargs) | script CPU (seq, xargs) |\n", px, px, px)
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range r.Cfg.CreateSizes {
		s, x := r.Res.Sequential[n], r.Res.Xargs[n]
		a1, ap := r.Res.Create[n][1], r.Res.Create[n][px]
		if s.Err != nil {
			r.fail(fmt.Sprintf("sequential curl N=%d", n), s.Err)
		}
		if x.Err != nil {
			r.fail(fmt.Sprintf("xargs curl N=%d", n), x.Err)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %.1f MB, %.1f MB | %s, %s |\n",
			n, wallOrFailed(s), ratioOf(s, a1), ratioOf(s, ap), wallOrFailed(x), ratioOf(x, ap),
			mb(s.M.MaxRSS), mb(x.M.MaxRSS), secs(s.M.CPU()), secs(x.M.CPU()))
	}
	b.WriteString("\n† run side by side with the other latency-bound runs (see Method).\n\n")
	b.WriteString("The sequential loop (`URL`, `BODIES` and the credentials come from the environment):\n\n")
	b.WriteString("```bash\n" + sequentialCurlScript + "```\n\n")
	b.WriteString("The parallel one:\n\n```bash\n" + xargsCurlScript + "```\n\n")
}

func (r *report) plan(b *strings.Builder) {
	b.WriteString("## 3. Plan cost\n\n")
	fmt.Fprintf(b, "`apply --dry-run --refresh=false --detailed-exitcode` of N unchanged manifests with a complete lock file, "+
		"which a real apply at parallelism %d against an emulator without latency wrote earlier in the run; "+
		"the harness checks that every plan exits 0, which means no changes. "+
		"The baseline is `harness yamlparse`, which reads the same files and decodes each into a generic "+
		"value with go.yaml.in/yaml/v3 and does nothing else; it runs as its own process and is measured "+
		"the same way. Wall times are the median of %d runs, peak RSS the largest. The emulator stays up "+
		"during the plans to prove they send no request.\n\n", r.Cfg.LockParallelism, r.Cfg.PlanRepeats)
	b.WriteString("| manifests | plan wall | plan per manifest | plan CPU | plan peak RSS | parse wall | parse per manifest | parse CPU | parse peak RSS | plan / parse (wall) | requests sent | lock-writing apply |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, pr := range r.Res.Plan {
		if pr.Lock.Err != nil {
			r.fail(fmt.Sprintf("lock-writing apply N=%d", pr.Size), pr.Lock.Err)
			fmt.Fprintf(b, "| %d | failed | | | | | | | | | | failed |\n", pr.Size)
			continue
		}
		if pr.PlanErr != nil {
			r.fail(fmt.Sprintf("plan N=%d", pr.Size), pr.PlanErr)
		}
		if pr.ParseErr != nil {
			r.fail(fmt.Sprintf("YAML parse N=%d", pr.Size), pr.ParseErr)
		}
		plan, parse := median(pr.Plan), median(pr.Parse)
		fmt.Fprintf(b, "| %d | %s | %s | %s | %.1f MB | %s | %s | %s | %.1f MB | %s | %d | %s |\n",
			pr.Size, secs(plan.Wall), perItem(plan.Wall, pr.Size), secs(plan.CPU()), mb(plan.MaxRSS),
			secs(parse.Wall), perItem(parse.Wall, pr.Size), secs(parse.CPU()), mb(parse.MaxRSS),
			ratio(plan.Wall, parse.Wall), pr.Requests, secs(pr.Lock.M.Wall))
	}
	b.WriteString("\nThe cost grows linearly when the time per manifest stays flat as N grows. CPU is that of " +
		"the median run. apply loads manifests on every core, the parse baseline on one.\n\n")
}

func (r *report) noop(b *strings.Builder) {
	n := r.Res.Noop
	b.WriteString("## 4. No-op re-apply\n\n")
	fmt.Fprintf(b, "A second `apply` of %d unchanged manifests at parallelism %d, with the lock file of the first, "+
		"against the same emulator (latency %s). Requests are those of the second run only.\n\n",
		r.Cfg.NoopSize, r.Cfg.NoopParallelism, r.Cfg.Latency)
	if n.First.Err != nil {
		r.fail("no-op: first apply", n.First.Err)
	}
	if n.Second.Err != nil {
		r.fail("no-op: second apply", n.Second.Err)
	}

	methods := []string{"GET", "POST", "PATCH", "PUT", "DELETE"}
	b.WriteString("| run | wall | peak RSS |")
	for _, m := range methods {
		b.WriteString(" " + m + " |")
	}
	b.WriteString(" writes |\n|---|---:|---:|")
	for range methods {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")

	for _, row := range []struct {
		label string
		r     runResult
	}{{"first apply (creates)", n.First}, {"second apply (no-op)", n.Second}} {
		fmt.Fprintf(b, "| %s | %s | %.1f MB |", row.label, wallOrFailed(row.r), mb(row.r.M.MaxRSS))
		for _, m := range methods {
			fmt.Fprintf(b, " %d |", row.r.Stats.ByMethod[m])
		}
		fmt.Fprintf(b, " %d |\n", row.r.Stats.Writes())
	}

	if other := otherMethods(n.Second.Stats, methods); other != "" {
		fmt.Fprintf(b, "\nOther methods in the second run: %s.\n", other)
	}
	b.WriteString("\n")
}

func otherMethods(s emulatorStats, known []string) string {
	var out []string
	for m := range s.ByMethod {
		found := false
		for _, k := range known {
			found = found || k == m
		}
		if !found {
			out = append(out, fmt.Sprintf("%s %d", m, s.ByMethod[m]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (r *report) rate(b *strings.Builder) {
	b.WriteString("## 5. Under rate limiting\n\n")
	fmt.Fprintf(b, "%d creates at parallelism %d (up to %.0f requests/s at %s latency) against "+
		"`apply emulator --latency %s --rate-limit %g`, which responds 429 with Retry-After above %g requests/s. "+
		"The ideal is N / rate = %s.\n\n",
		r.Cfg.RateSize, r.Cfg.RateParallelism, float64(r.Cfg.RateParallelism)/r.Cfg.Latency.Seconds(),
		r.Cfg.Latency, r.Cfg.Latency, r.Cfg.Rate, r.Cfg.Rate, secs(r.rateIdeal()))
	b.WriteString("| apply flags | wall | wall / (N / rate) | requests | 429 responses | share 429 | peak RSS |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, rr := range r.Res.Rate {
		if rr.R.Err != nil {
			r.fail("rate limit, "+clientLimit(rr.ClientRate), rr.R.Err)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %d | %.1f%% | %.1f MB |\n",
			clientLimit(rr.ClientRate), wallOrFailed(rr.R), ratio(rr.R.M.Wall, r.rateIdeal()),
			rr.R.Stats.Requests, rr.R.Stats.RateLimited, 100*throttledShare(rr.R.Stats), mb(rr.R.M.MaxRSS))
	}
	b.WriteString("\n")
}

func (r *report) fail(what string, err error) {
	r.failures = append(r.failures, what+": "+err.Error())
}

func secs(d time.Duration) string {
	switch {
	case d >= 100*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func ratio(a, b time.Duration) string {
	if b <= 0 || a <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a.Seconds()/b.Seconds())
}

func ratioOf(a, b runResult) string {
	if a.Err != nil || b.Err != nil {
		return "n/a"
	}
	return ratio(a.M.Wall, b.M.Wall)
}

func wallOrFailed(r runResult) string {
	if r.Err != nil {
		return "failed"
	}
	return secs(r.M.Wall)
}

func perItem(d time.Duration, n int) string {
	if n == 0 || d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f µs", float64(d.Microseconds())/float64(n))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
