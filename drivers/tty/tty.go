// Package tty is the console's line discipline (Linux: drivers/tty/n_tty.c,
// canonical mode) with the line editing a Linux console user gets from
// bash's readline: the UART's bottom half feeds it raw bytes with Input, it
// echoes and edits the current line, and ReadLine hands completed lines to
// the shell. Unlike n_tty, which edits and echoes as bytes arrive, editing
// and echo happen when the shell reads (as readline does), so type-ahead
// and piped input are echoed after the prompt, not into a command's
// output. Only Ctrl-C acts at once. All console output goes through it too,
// so echo, foreground output and background jobs never interleave
// mid-write.
//
// Editing keys (edit.go): Left/Right (or Ctrl-B/Ctrl-F), Home/End (or
// Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-K (kill to the end), Ctrl-U
// (kill to the start), Ctrl-W (kill the word before the cursor), Ctrl-L
// (clear the screen), Up/Down (or Ctrl-P/Ctrl-N) through the history
// (history.go), Tab to complete (complete.go). Escape sequences may arrive
// split across reads. Input that only types lines (a pipe) is echoed
// exactly as it was typed.
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
	ctrlA = 0x01 // start of line (readline's beginning-of-line)
	ctrlB = 0x02 // back one character
	ctrlC = 0x03 // VINTR
	ctrlD = 0x04 // VEOF: ignored, so an empty prompt never reads EOF
	ctrlE = 0x05 // end of line
	ctrlF = 0x06 // forward one character
	bs    = 0x08 // VERASE alternative
	tab   = 0x09 // complete
	ctrlK = 0x0b // kill to the end of the line
	ctrlL = 0x0c // clear the screen
	ctrlN = 0x0e // next history line
	ctrlP = 0x10 // previous history line
	ctrlU = 0x15 // VKILL: kill to the start of the line
	ctrlW = 0x17 // VWERASE: kill the word before the cursor
	esc   = 0x1b // starts an escape sequence (arrow and editing keys)
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
// Lock contract: mu guards the input side (raw, cur, pos, editing, prompt,
// curLong, utf8buf, esc, lastCR, intr, hist, complete). outMu guards the
// output side (out, col, colOK, back, obuf). Order: mu before outMu (echo happens
// while editing). The interrupt hook is called with neither held, the
// completer with mu held (it must not use the console).
type TTY struct {
	mu       sync.Mutex
	raw      []byte    // received, not yet edited (type-ahead)
	cur      []byte    // the line being edited
	pos      int       // the cursor: a byte offset in cur, on a character boundary
	editing  bool      // a line has started: prompt is set
	prompt   []byte    // what the screen line held before the line (the shell's prompt)
	curLong  bool      // cur overflowed MaxLine
	utf8buf  []byte    // an incomplete UTF-8 sequence
	esc      []byte    // an escape sequence being received (ESC first), or nil
	lastCR   bool      // the previous byte was CR: a following LF is the same newline
	intr     func()    // non-nil while a foreground command runs
	hist     history   // lines entered, for Up and Down
	complete Completer // Tab's source of candidates; nil: Tab does nothing
	readers  sched.WaitQueue

	outMu sync.Mutex
	out   io.Writer
	col   []byte // text of the current output line since the last newline
	colOK bool   // col is exact (false after an overlong line: no redraw)
	back  int    // the cursor stands this many characters left of col's end
	obuf  []byte // outputLocked's translation buffer, kept between writes
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
