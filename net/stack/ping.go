package stack

import (
	"fmt"
	"net/netip"
	"time"

	"gomenuos/net/header"
)

// EchoReply is the answer to a Ping.
type EchoReply struct {
	From    netip.Addr
	Seq     uint16
	TTL     uint8
	Payload []byte
	RTT     time.Duration
}

// ICMPError reports that an ICMP error, not a reply, answered a Ping.
type ICMPError struct {
	From       netip.Addr
	Type, Code uint8
}

func (e *ICMPError) Error() string {
	return fmt.Sprintf("icmp type %d code %d from %v", e.Type, e.Code, e.From)
}

// Errno maps unreachable errors to EHOSTUNREACH and others to ENETUNREACH.
func (e *ICMPError) Errno() uintptr {
	if e.Type == header.ICMPv4DestUnreach && e.Code != header.ICMPv4NetUnreach {
		return errnoEHOSTUNREACH
	}
	return errnoENETUNREACH
}

type echoKey struct{ id, seq uint16 }

// pingWaiter is one Ping in flight. The RTT is taken when the reply is
// delivered, on the receiving goroutine, so it reads the clock exactly then.
type pingWaiter struct {
	ch    chan pingResult
	start time.Time
}

type pingResult struct {
	reply EchoReply
	err   error
}

// Ping sends one ICMP echo request to dst and waits up to timeout, on the
// stack's clock, for the matching reply (what ping(8) does per packet).
// Payloads larger than the path MTU are fragmented.
func (s *Stack) Ping(dst netip.Addr, id, seq uint16, payload []byte, timeout time.Duration) (EchoReply, error) {
	return s.PingCancel(dst, id, seq, payload, timeout, nil)
}

// PingCancel is Ping that gives up with ErrInterrupted when cancel is
// closed (the shell's Ctrl-C).
func (s *Stack) PingCancel(dst netip.Addr, id, seq uint16, payload []byte, timeout time.Duration, cancel <-chan struct{}) (EchoReply, error) {
	src, _, err := s.Route(dst)
	if err != nil {
		return EchoReply{}, err
	}
	k := echoKey{id, seq}
	w := &pingWaiter{ch: make(chan pingResult, 1), start: s.clock.Now()}
	if !s.icmp.register(k, w) {
		return EchoReply{}, ErrExists
	}
	defer s.icmp.unregister(k, w)
	msg := make([]byte, header.ICMPv4HeaderLen+len(payload))
	copy(msg[header.ICMPv4HeaderLen:], payload)
	header.PutICMPv4(msg, header.ICMPv4Echo, 0, uint32(id)<<16|uint32(seq))
	timer := s.clock.AfterFunc(timeout, func() { s.icmp.deliver(k, pingResult{err: ErrTimeout}) })
	defer timer.Stop()
	s.icmpMIB.OutMsgs.Add(1)
	s.icmpMIB.OutType[header.ICMPv4Echo].Add(1)
	if err := s.ipSend(src, dst, header.ProtocolICMP, 0, msg); err != nil {
		s.icmpMIB.OutErrors.Add(1)
		return EchoReply{}, err
	}
	select {
	case r := <-w.ch:
		return r.reply, r.err
	case <-cancel:
		return EchoReply{}, ErrInterrupted
	}
}

// pingError turns an ICMP error quoting one of our echo requests into the
// Ping's result.
func (s *Stack) pingError(from netip.Addr, m header.ICMPv4, quoted header.IPv4) {
	echo := quoted[quoted.HeaderLen():]
	if echo[0] != header.ICMPv4Echo {
		return
	}
	k := echoKey{uint16(echo[4])<<8 | uint16(echo[5]), uint16(echo[6])<<8 | uint16(echo[7])}
	s.icmp.deliver(k, pingResult{err: &ICMPError{From: from, Type: m.Type(), Code: m.Code()}})
}

func (c *icmpState) register(k echoKey, w *pingWaiter) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiters[k] != nil {
		return false
	}
	c.waiters[k] = w
	return true
}

func (c *icmpState) unregister(k echoKey, w *pingWaiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiters[k] == w {
		delete(c.waiters, k)
	}
}

// deliver completes the waiter for k, if any; later results are dropped.
func (c *icmpState) deliver(k echoKey, r pingResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.waiters[k]; w != nil {
		r.reply.RTT = c.s.clock.Now().Sub(w.start)
		select {
		case w.ch <- r:
		default:
		}
	}
}
