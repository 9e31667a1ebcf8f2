// Package unix is the AF_UNIX stream socket of gomenuos as socketpair(2)
// makes it (Linux: net/unix/af_unix.c's unix_stream_ops): two connected
// sockets, each writing into the other's receive queue. Sockets with
// file-system names (bind, listen, connect) are not implemented.
//
// Nothing here blocks: Sendmsg returns ErrWouldBlock when the peer's
// queue is full and Recvmsg when it is empty; the socket layer
// (net/inet) sleeps on its wait queue, which SetWake connects.
package unix

import (
	"sync"
	"syscall"
)

// Errors, as the errnos a system call returns.
var (
	ErrWouldBlock   error = syscall.EAGAIN
	ErrPipe         error = syscall.EPIPE
	ErrInvalid      error = syscall.EINVAL
	ErrNotConnected error = syscall.ENOTCONN
	ErrOpNotSupp    error = syscall.EOPNOTSUPP
	ErrConnReset    error = syscall.ECONNRESET
)

// Shutdown bits (Linux: RCV_SHUTDOWN, SEND_SHUTDOWN).
const (
	rcvShutdown  = 1
	sendShutdown = 2
)

// DefaultSndBuf is how many bytes a socket may have waiting unread in its
// peer's queue (Linux: SO_SNDBUF's default, net.core.wmem_default).
const DefaultSndBuf = 212992

// Sock is one end of a connected pair (Linux: struct unix_sock).
//
// Lock contract: the pair shares one mutex, which guards every field of
// both ends; wake-ups are collected under it and run after it is
// released.
type Sock struct {
	mu       *sync.Mutex
	peer     *Sock
	rcvQ     []byte // what the peer wrote and we have not read
	sndBuf   int    // SO_SNDBUF: the most of ours the peer's queue may hold
	shutdown uint8  // our sk_shutdown
	err      error  // sk_err: ECONNRESET when the peer closed with our data unread
	closed   bool
	wake     func()
}

// Pair returns two connected sockets (Linux: unix_socketpair).
func Pair() (*Sock, *Sock) {
	mu := &sync.Mutex{}
	a := &Sock{mu: mu, sndBuf: DefaultSndBuf}
	b := &Sock{mu: mu, sndBuf: DefaultSndBuf, peer: a}
	a.peer = b
	return a, b
}

// SetWake sets the function that wakes the socket's sleepers.
func (s *Sock) SetWake(f func()) {
	s.mu.Lock()
	s.wake = f
	s.mu.Unlock()
}

// unlock releases the pair's lock and wakes the given ends.
func (s *Sock) unlock(wake ...*Sock) {
	var fs []func()
	for _, w := range wake {
		if w.wake != nil {
			fs = append(fs, w.wake)
		}
	}
	s.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Sendmsg appends what fits of b to the peer's queue and returns how much
// (Linux: unix_stream_sendmsg): EPIPE after our SHUT_WR or once the peer
// is closed or has shut down reading, ErrWouldBlock when nothing fits.
// An empty b sends nothing and succeeds.
func (s *Sock) Sendmsg(b []byte) (int, error) {
	s.mu.Lock()
	p := s.peer
	if err := s.takeErrorLocked(); err != nil {
		s.unlock()
		return 0, err
	}
	if s.shutdownLocked()&sendShutdown != 0 {
		s.unlock()
		return 0, ErrPipe
	}
	if len(b) == 0 {
		s.unlock()
		return 0, nil
	}
	n := min(len(b), s.sndBuf-len(p.rcvQ))
	if n <= 0 {
		s.unlock()
		return 0, ErrWouldBlock
	}
	p.rcvQ = append(p.rcvQ, b[:n]...)
	s.unlock(p) // Linux: the peer's sk_data_ready
	return n, nil
}

// Recvmsg copies queued bytes into b, leaving them with peek (Linux:
// unix_stream_recvmsg). 0, nil is the end: the peer closed or shut down
// writing, or we shut down reading. ErrWouldBlock when nothing is queued
// yet.
func (s *Sock) Recvmsg(b []byte, peek bool) (int, error) {
	s.mu.Lock()
	if len(s.rcvQ) > 0 {
		n := copy(b, s.rcvQ)
		if peek {
			s.unlock()
			return n, nil
		}
		s.rcvQ = s.rcvQ[n:]
		if len(s.rcvQ) == 0 {
			s.rcvQ = nil
		}
		s.unlock(s.peer) // room for the writer (Linux: sk_write_space)
		return n, nil
	}
	if err := s.takeErrorLocked(); err != nil {
		s.unlock()
		return 0, err
	}
	if s.shutdownLocked()&rcvShutdown != 0 {
		s.unlock()
		return 0, nil
	}
	s.unlock()
	return 0, ErrWouldBlock
}

// takeErrorLocked returns and clears sk_err (Linux: sock_error).
func (s *Sock) takeErrorLocked() error {
	err := s.err
	s.err = nil
	return err
}

// TakeError is SO_ERROR: the pending error, cleared.
func (s *Sock) TakeError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeErrorLocked()
}

// shutdownLocked is our sk_shutdown as Linux keeps it: our own bits, the
// peer's mirrored (its SHUT_WR ends our reading, its SHUT_RD our
// writing, as unix_shutdown sets on the peer), and both once the peer is
// closed (unix_release_sock).
func (s *Sock) shutdownLocked() uint8 {
	p := s.peer
	if p.closed {
		return rcvShutdown | sendShutdown
	}
	sh := s.shutdown
	if p.shutdown&rcvShutdown != 0 {
		sh |= sendShutdown
	}
	if p.shutdown&sendShutdown != 0 {
		sh |= rcvShutdown
	}
	return sh
}

// Shutdown half-closes (Linux: unix_shutdown): our direction, and the
// peer's opposite one, so that its reads end or its writes fail.
func (s *Sock) Shutdown(how int) error {
	if how < 0 || how > 2 {
		return ErrInvalid
	}
	s.mu.Lock()
	s.shutdown |= uint8(how + 1)
	s.unlock(s, s.peer)
	return nil
}

// Close releases this end (Linux: unix_release_sock): the peer reads the
// end of the stream and its writes fail with EPIPE — after one
// ECONNRESET if what it sent was never read here.
func (s *Sock) Close() {
	s.mu.Lock()
	if !s.closed && len(s.rcvQ) > 0 {
		s.peer.err = ErrConnReset
	}
	s.closed = true
	s.rcvQ = nil
	s.unlock(s.peer)
}

// PollMask is the readiness a socket reports (EPOLL bits).
type PollMask uint32

const (
	PollIn    PollMask = 0x001
	PollOut   PollMask = 0x004
	PollErr   PollMask = 0x008
	PollHup   PollMask = 0x010
	PollRdHup PollMask = 0x2000
)

// Poll returns the socket's readiness (Linux: unix_poll): readable with
// bytes queued or after the read side's shutdown, hung up when both
// sides are shut down, writable while what we wrote and the peer has not
// read is at most a quarter of SO_SNDBUF (unix_writable), so a woken
// writer has room to fill.
func (s *Sock) Poll() PollMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m PollMask
	sh := s.shutdownLocked()
	if s.err != nil {
		m |= PollErr
	}
	if len(s.rcvQ) > 0 {
		m |= PollIn
	}
	if sh&rcvShutdown != 0 {
		m |= PollIn | PollRdHup
	}
	if sh == rcvShutdown|sendShutdown {
		m |= PollHup
	}
	if len(s.peer.rcvQ)*4 <= s.sndBuf {
		m |= PollOut
	}
	return m
}

// WriteWouldProceed reports whether Sendmsg would not return
// ErrWouldBlock now: there is room in the peer's queue, or the write
// fails at once (Linux: sock_wait_for_wmem stops at an error or
// SEND_SHUTDOWN as well as at room).
func (s *Sock) WriteWouldProceed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil || s.shutdownLocked()&sendShutdown != 0 || len(s.peer.rcvQ) < s.sndBuf
}

// SetSndBuf sets SO_SNDBUF, doubled and floored as Linux does.
func (s *Sock) SetSndBuf(v int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v < 0 || v > DefaultSndBuf {
		v = DefaultSndBuf
	}
	s.sndBuf = max(2*v, 4608)
}

// SndBuf reads SO_SNDBUF.
func (s *Sock) SndBuf() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sndBuf
}
