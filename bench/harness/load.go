package main

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// phaseLoad is the CPU time the whole host and the benchmark's own processes
// used during one phase of the run. The host may be shared, and the
// difference shows whether other processes competed with the measurements.
type phaseLoad struct {
	Name  string
	Wall  time.Duration
	Host  time.Duration // CPU time all processes used, from /proc/stat
	Bench time.Duration // CPU time of the harness and every process it waited for
}

// Others returns the CPU time of processes outside the benchmark, or zero
// when rounding makes it negative.
func (p phaseLoad) Others() time.Duration { return max(p.Host-p.Bench, 0) }

// cpuSample is one reading of both CPU counters.
type cpuSample struct {
	at    time.Time
	host  time.Duration
	bench time.Duration
}

func sampleCPU() cpuSample {
	host, _ := hostBusy()
	return cpuSample{at: time.Now(), host: host, bench: benchCPU()}
}

// phase runs fn and records the CPU load while it ran.
func (s *suite) phase(name string, fn func()) {
	s.logf("%s", name)
	before := sampleCPU()
	fn()
	after := sampleCPU()
	s.res.Phases = append(s.res.Phases, phaseLoad{
		Name:  name,
		Wall:  after.at.Sub(before.at),
		Host:  after.host - before.host,
		Bench: after.bench - before.bench,
	})
}

// hostBusy returns the CPU time all CPUs spent on anything but idle and
// I/O wait since boot, from the first line of /proc/stat.
func hostBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, errors.New("read /proc/stat: empty")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, errors.New("read /proc/stat: unexpected first line")
	}
	// user nice system idle iowait irq softirq steal, in clock ticks.
	var ticks int64
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	// NOTE: Linux reports /proc/stat in USER_HZ, which is 100 on every
	// architecture Go supports; Go's standard library has no sysconf to check.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// benchCPU returns the CPU time of the harness and of every child process it
// has waited for, which includes their own waited-for children.
func benchCPU() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}
