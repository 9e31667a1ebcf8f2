// Package inet is the socket layer of gomenuos (Linux: net/socket.c and
// net/ipv4/af_inet.c): it creates sockets through an inet_create-style
// protocol switch — stream sockets over TCP, datagram sockets over UDP,
// each type with its table of operations — and turns the protocols'
// non-blocking operations into blocking ones that sleep on the socket's
// sched.WaitQueue and can be interrupted.
package inet

import (
	"gomenuos/net/clock"
	"gomenuos/net/tcp"
	"gomenuos/net/udp"
)

// Address family, socket type and protocol numbers (Linux values).
const (
	AFInet     = 2
	SockStream = 1
	SockDgram  = 2
	IPProtoIP  = 0
	IPProtoTCP = 6
	IPProtoUDP = 17
)

// Net is the socket layer of one network stack: its protocols.
type Net struct {
	tcp *tcp.Proto
	udp *udp.Proto // nil without an IPv4 layer for it (New): no SOCK_DGRAM
	// softirq delivers what the devices' backlogs hold on the caller's
	// goroutine (stack.DoSoftirq); nil without a stack.
	softirq func()
}

// doSoftirq runs when a task leaves the network code — after a call that
// may have sent, and before it sleeps — so a loopback exchange goes on in
// the tasks that make it (Linux: the softirq run at local_bh_enable).
func (n *Net) doSoftirq() {
	if n != nil && n.softirq != nil {
		n.softirq()
	}
}

// New returns a socket layer whose TCP sends through ip; it has no UDP
// (NewNet, on a real IPv4 layer, has both).
func New(ip tcp.IP, clk clock.Clock, cfg tcp.Config) *Net {
	return &Net{tcp: tcp.New(ip, clk, cfg)}
}

// TCP returns the TCP instance (for /proc views and tests).
func (n *Net) TCP() *tcp.Proto { return n.tcp }

// UDP returns the UDP instance, nil if there is none.
func (n *Net) UDP() *udp.Proto { return n.udp }
