package verify

import (
	"context"
	"net"
	"strconv"
)

// resolver looks up server names. Tests replace it with one that queries a
// DNS server on loopback, so that no test query leaves the machine.
var resolver = net.DefaultResolver

// dialContext opens the TCP connection for the driver. The driver bounds
// ctx by the connect timeout.
func dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Resolver: resolver}
	return d.DialContext(ctx, network, addr)
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
