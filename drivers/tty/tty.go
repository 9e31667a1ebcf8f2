// Package tty is the console's line discipline (Linux: drivers/tty/n_tty.c,
// canonical mode): the UART's bottom half feeds it raw bytes with Input, it
// echoes and edits the current line, and ReadLine hands completed lines to
// the shell. Unlike n_tty, which edits and echoes as bytes arrive, editing
// and echo happen when the shell reads (as readline does), so type-ahead
// and piped input are echoed after the prompt, not into a command's
// output. Only Ctrl-C acts at once. All console output goes through it too, so echo, foreground
// output and background jobs never interleave mid-write.
package tty

import (
	"errors"
	"io"
	"sync"

	"gomenuos/sched"
)

// MaxLine is the longest line ReadLine returns (Linux: N_TTY_BUF_SIZE - 1);
// bytes typed past it are dropped and the line is reported as too long.
const MaxLine = 4095

// maxRaw bounds input nobody has read yet (type-ahead); bytes beyond it
// are dropped, as a full n_tty buffer drops input.
const maxRaw = 64 << 10

var (
	// ErrLineTooLong: the line exceeded MaxLine; ReadLine returns its first
	// MaxLine bytes with this error.
	ErrLineTooLong = errors.New("line too long")
	// ErrCanceled: Ctrl-C discarded the line being typed at the prompt.
	ErrCanceled = errors.New("line canceled")
)

// Control characters with a meaning here (Linux: the c_cc defaults).
const (
	ctrlC = 0x03 // VINTR
	ctrlD = 0x04 // VEOF: ignored, so an empty prompt never reads EOF
	bs    = 0x08 // VERASE alternative
	ctrlU = 0x15 // VKILL
	esc   = 0x1b // starts an escape sequence, which is swallowed
	del   = 0x7f // VERASE
)

// line is a completed input line waiting for ReadLine.
type line struct {
	text     string
	tooLong  bool
	canceled bool
}

// TTY is one console's line discipline.
//
// Lock contract: mu guards the input side (raw, cur, curLong, utf8buf,
// escLen, lastCR, intr). outMu guards the output side (out, col). Order: mu
// before outMu (echo happens while editing); the interrupt hook is called
// with neither held.
type TTY struct {
	mu      sync.Mutex
	raw     []byte // received, not yet edited (type-ahead)
	cur     []byte // the line being edited
	curLong bool   // cur overflowed MaxLine
	utf8buf []byte // an incomplete UTF-8 sequence
	escLen  int    // >0: inside an escape sequence, bytes seen so far
	lastCR  bool   // the previous byte was CR: a following LF is the same newline
	intr    func() // non-nil while a foreground command runs
	readers sched.WaitQueue

	outMu sync.Mutex
	out   io.Writer
	col   []byte // text of the current output line since the last newline
	colOK bool   // col is exact (false after an overlong line: no redraw)
}

// New returns a line discipline echoing and writing to out (the UART).
func New(out io.Writer) *TTY {
	return &TTY{out: out, colOK: true}
}

// SetForeground registers the hook Ctrl-C calls while a foreground command
// runs (the shell passes its task's Interrupt); nil means the shell is at
// the prompt again and Ctrl-C only cancels the line being typed.
func (t *TTY) SetForeground(intr func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.intr = intr
}

// ReadLine blocks until a line is complete and returns it without its
// newline. It returns ErrLineTooLong (with the truncated line) for an
// overlong line, ErrCanceled when Ctrl-C discarded the line, and
// sched.ErrRestartSys when task is interrupted. Linux: n_tty_read.
func (t *TTY) ReadLine(task *sched.Task) (string, error) {
	var l line
	err := t.readers.WaitEventInterruptible(task, func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		var done bool
		l, done = t.editLocked()
		return done
	})
	switch {
	case err != nil:
		return "", err
	case l.canceled:
		return "", ErrCanceled
	case l.tooLong:
		return l.text, ErrLineTooLong
	}
	return l.text, nil
}
