package tty

import "gomenuos/sched"

// Non-canonical input (Linux: n_tty_read with ICANON off, VMIN 1, VTIME
// 0): programs that edit their own line, such as a shell with line
// editing, switch the terminal to it with termios and read bytes as they
// arrive. Echo is theirs to do unless ECHO stays on; Enter's CR becomes
// NL (ICRNL); Ctrl-C still interrupts the foreground job (ISIG).

// ReadRaw blocks until input is there and returns up to len(p) bytes of
// it, unedited. It returns sched.ErrRestartSys when task is interrupted.
func (t *TTY) ReadRaw(task *sched.Task, p []byte, echo bool) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := t.readers.WaitEventInterruptible(task, func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		for n < len(p) && len(t.raw) > 0 {
			c := t.raw[0]
			t.raw = t.raw[1:]
			if c == '\r' {
				c = '\n' // ICRNL
			}
			p[n] = c
			n++
		}
		if n > 0 && echo {
			t.echo(p[:n])
		}
		return n > 0
	})
	return n, err
}

// Pending reports how many typed bytes wait to be read (FIONREAD).
func (t *TTY) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.raw) + len(t.cur)
}

// ReadQueue is the queue readers sleep on; a poller waits there for input.
func (t *TTY) ReadQueue() *sched.WaitQueue { return &t.readers }
