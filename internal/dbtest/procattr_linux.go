package dbtest

import "syscall"

// serverProcAttr makes the kernel kill the server when the test binary
// dies without calling Stop, so that a crashed test leaves no server behind.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
