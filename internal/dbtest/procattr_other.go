//go:build !linux

package dbtest

import "syscall"

// serverProcAttr returns nil: only Linux can tie the server's life to the
// test binary's, so elsewhere a crashed test may leave a server running.
func serverProcAttr() *syscall.SysProcAttr { return nil }
