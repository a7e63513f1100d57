package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long ListenAndServe waits for requests in
// flight once its context is done.
const shutdownTimeout = 5 * time.Second

// ListenAndServe runs an emulator configured by opts on addr until ctx is
// done, then shuts the server down and closes the emulator, which saves its
// state. addr must be a loopback host (127.0.0.1, ::1 or localhost) and a
// port, where port 0 picks a free one. Other hosts are rejected because the
// emulator speaks plain HTTP and accepts any credentials. Once listening, it
// calls ready, if not nil, with the base URL, such as
// "http://127.0.0.1:8080". It returns nil after a clean shutdown, or the
// first error.
func ListenAndServe(ctx context.Context, addr string, opts Options, ready func(url string)) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	e, err := New(opts)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen on %s: %w", addr, err), e.Close())
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready("http://" + ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		err = srv.Shutdown(shutdownCtx)
		cancel()
		<-served
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, e.Close())
}

// checkLoopback rejects an address that is not on a loopback interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("emulator address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("emulator address %q: not a loopback address; use 127.0.0.1 or ::1, because the emulator serves plain HTTP", addr)
}
