package main

import "time"

// config is the benchmark matrix.
type config struct {
	Latency time.Duration // emulator latency of every request

	// Table 1 and 2: creates of N fresh manifests.
	CreateSizes   []int
	Parallelism   []int
	XargsParallel int // the -P of the xargs alternative, compared with apply at the same parallelism

	// Table 3: offline plans with a complete lock file.
	PlanSizes       []int
	PlanRepeats     int // runs per size; the table shows the median wall time
	LockParallelism int // parallelism of the apply that writes the lock file

	// Table 4: a second apply of unchanged manifests.
	NoopSize        int
	NoopParallelism int

	// Table 5: creates against an emulator that answers 429 above Rate.
	RateSize        int
	RateParallelism int
	Rate            float64 // requests per second
}

// fullConfig is the matrix published in docs/benchmarks.md.
func fullConfig() config {
	return config{
		Latency:         50 * time.Millisecond,
		CreateSizes:     []int{100, 1000, 5000},
		Parallelism:     []int{1, 4, 16, 64},
		XargsParallel:   16,
		PlanSizes:       []int{1000, 10000, 50000},
		PlanRepeats:     3,
		LockParallelism: 64,
		NoopSize:        1000,
		NoopParallelism: 16,
		RateSize:        1000,
		RateParallelism: 16,
		Rate:            100,
	}
}

// quickConfig is a small matrix for checking the harness itself; its numbers
// are not published.
func quickConfig() config {
	return config{
		Latency:         50 * time.Millisecond,
		CreateSizes:     []int{20, 200},
		Parallelism:     []int{1, 4, 16, 64},
		XargsParallel:   16,
		PlanSizes:       []int{200, 1000, 2000},
		PlanRepeats:     2,
		LockParallelism: 64,
		NoopSize:        200,
		NoopParallelism: 16,
		RateSize:        200,
		RateParallelism: 16,
		Rate:            50,
	}
}

// idealCreate is the wall time of n creates at parallelism p when every
// request takes exactly the latency and nothing else costs time.
func idealCreate(n, p int, latency time.Duration) time.Duration {
	batches := (n + p - 1) / p
	return time.Duration(batches) * latency
}
