// Package inet is the socket layer of gomenuos (Linux: net/socket.c and
// net/ipv4/af_inet.c): it creates sockets through an inet_create-style
// protocol switch and turns TCP's non-blocking operations into blocking
// ones that sleep on the socket's sched.WaitQueue and can be interrupted.
package inet

import (
	"gomenuos/net/clock"
	"gomenuos/net/tcp"
)

// Address family, socket type and protocol numbers (Linux values).
const (
	AFInet     = 2
	SockStream = 1
	IPProtoIP  = 0
	IPProtoTCP = 6
)

// Net is the socket layer of one network stack: its protocols.
type Net struct {
	tcp *tcp.Proto
}

// New returns a socket layer whose TCP sends through ip.
func New(ip tcp.IP, clk clock.Clock, cfg tcp.Config) *Net {
	return &Net{tcp: tcp.New(ip, clk, cfg)}
}

// TCP returns the TCP instance (for /proc views and tests).
func (n *Net) TCP() *tcp.Proto { return n.tcp }
