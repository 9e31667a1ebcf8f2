package harness

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// console accumulates everything the guest wrote on its serial port.
//
// Lock contract: mu guards buf, cursor, closed and changed. changed is closed
// and replaced on every append so waiters can select on it with a timeout.
type console struct {
	mu      sync.Mutex
	buf     []byte
	cursor  int // Expect searches buf[cursor:]; a match moves it past the match
	closed  bool
	changed chan struct{}
}

func newConsole() *console { return &console{changed: make(chan struct{})} }

// Write appends guest output (the reader goroutine's io.Writer).
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	c.notifyLocked()
	return len(p), nil
}

// close marks the end of output (the guest's stdout reached EOF).
func (c *console) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.notifyLocked()
}

func (c *console) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Bytes returns a copy of the whole transcript.
func (c *console) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

// matcher finds a match in b and returns its [start, end) and submatches.
type matcher func(b []byte) (loc []int, groups []string)

func literal(s string) matcher {
	return func(b []byte) ([]int, []string) {
		i := strings.Index(string(b), s)
		if i < 0 {
			return nil, nil
		}
		return []int{i, i + len(s)}, []string{s}
	}
}

func pattern(re *regexp.Regexp) matcher {
	return func(b []byte) ([]int, []string) {
		loc := re.FindSubmatchIndex(b)
		if loc == nil {
			return nil, nil
		}
		groups := make([]string, len(loc)/2)
		for i := range groups {
			if loc[2*i] >= 0 {
				groups[i] = string(b[loc[2*i]:loc[2*i+1]])
			}
		}
		return loc[:2], groups
	}
}

// expect waits until m matches the unread output, consumes up to the end of
// the match and returns the skipped text plus the match, and the groups.
func (c *console) expect(what string, m matcher, timeout time.Duration) (string, []string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		unread := c.buf[c.cursor:]
		if loc, groups := m(unread); loc != nil {
			text := string(unread[:loc[1]])
			c.cursor += loc[1]
			c.mu.Unlock()
			return text, groups, nil
		}
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return "", nil, fmt.Errorf("console closed before %s; unread output: %q", what, tail(unread))
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", nil, fmt.Errorf("timeout after %v waiting for %s; unread output: %q",
				timeout, what, tail(c.unread()))
		}
	}
}

// unread returns the output after the cursor.
func (c *console) unread() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf[c.cursor:]...)
}

// tail keeps error messages readable when the guest floods the console.
func tail(b []byte) []byte {
	const max = 2048
	if len(b) > max {
		return b[len(b)-max:]
	}
	return b
}
