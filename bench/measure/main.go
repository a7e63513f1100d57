// Command measure runs one program and writes its wall time and rusage as
// JSON to a file, for the benchmark harness.
//
// Usage:
//
//	measure USAGEFILE PROGRAM [ARG...]
//
// The harness starts every measured process through this trampoline because
// the kernel's peak RSS of a process (ru_maxrss) includes the memory of the
// process that forked it, up to the exec. The harness keeps about 11 MB
// resident, mostly for its plotting library, so a child forked from it would
// report at least that much. Forked from this small program, the floor is
// about 2.5 MB. It imports as little as it can to keep that floor low.
//
// The standard streams pass through; the exit status is the program's, or
// 128 when a signal killed it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// usage is the JSON written to USAGEFILE; durations are in nanoseconds.
type usage struct {
	Wall      time.Duration
	MaxRSSKiB int64
	User      time.Duration
	Sys       time.Duration
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: measure USAGEFILE PROGRAM [ARG...]")
		os.Exit(2)
	}
	os.Exit(measure(os.Args[1], os.Args[2], os.Args[3:]))
}

func measure(usagePath, path string, args []string) int {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		return 127
	}
	err := cmd.Wait()
	u := usage{Wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSKiB = ru.Maxrss // Linux reports kibibytes
		u.User = time.Duration(ru.Utime.Nano())
		u.Sys = time.Duration(ru.Stime.Nano())
	}
	b, _ := json.Marshal(u)
	if werr := os.WriteFile(usagePath, b, 0o600); werr != nil {
		fmt.Fprintln(os.Stderr, "measure:", werr)
		return 127
	}
	if err != nil {
		if code := cmd.ProcessState.ExitCode(); code > 0 {
			return code
		}
		return 128
	}
	return 0
}
