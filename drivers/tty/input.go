package tty

import (
	"unicode"
	"unicode/utf8"
)

// Input takes bytes received on the line; the UART driver's bottom half
// calls it from its goroutine. Ctrl-C while a foreground command runs
// interrupts it at once (and drops the type-ahead); everything else waits
// for ReadLine. Linux: n_tty_receive_buf.
func (t *TTY) Input(b []byte) {
	t.mu.Lock()
	var intr func()
	for _, c := range b {
		if c == ctrlC && t.intr != nil {
			intr = t.intr
			t.isigLocked()
			continue
		}
		if len(t.raw) < maxRaw {
			t.raw = append(t.raw, c)
		}
	}
	t.mu.Unlock()
	if intr != nil {
		intr()
	}
	t.readers.WakeUpInterruptible()
}

// isigLocked handles Ctrl-C for a running command: echo ^C and drop the
// line being typed and the type-ahead. Linux: isig, with the input flush of
// n_tty_receive_signal_char.
func (t *TTY) isigLocked() {
	t.echo([]byte("^C\n"))
	t.raw = t.raw[:0]
	t.resetLineLocked()
}

// editLocked edits received bytes into the current line until a line is
// complete. Linux: the canonical-mode part of n_tty_receive_char.
func (t *TTY) editLocked() (line, bool) {
	for len(t.raw) > 0 {
		c := t.raw[0]
		t.raw = t.raw[1:]
		if l, done := t.receiveCharLocked(c); done {
			return l, true
		}
	}
	t.raw = t.raw[:0] // reuse the buffer from its start
	return line{}, false
}

// receiveCharLocked edits with one byte and reports a completed line.
func (t *TTY) receiveCharLocked(c byte) (line, bool) {
	if !t.editing {
		t.startLineLocked()
	}
	wasCR := t.lastCR
	t.lastCR = c == '\r'
	if t.esc != nil {
		if c >= 0x20 {
			t.escapeLocked(c)
			return line{}, false
		}
		// A control character ends an unfinished sequence and then acts
		// as itself (a terminal executes C0 controls met inside one), so
		// a stray ESC cannot swallow the ^C or the newline after it.
		t.esc = nil
	}
	switch {
	case c == '\r' || c == '\n':
		if c == '\n' && wasCR {
			return line{}, false // CR LF is one newline
		}
		return t.newlineLocked(), true
	case c == ctrlC:
		// ^C at the prompt: the reader starts over with a new prompt.
		t.endLocked()
		t.echo([]byte("^C\n"))
		t.resetLineLocked()
		return line{canceled: true}, true
	case c == esc:
		t.esc = append(make([]byte, 0, maxEsc), c)
	case c < 0x20 || c == del:
		t.controlLocked(c)
	case c < utf8.RuneSelf:
		t.insertLocked([]byte{c})
	default:
		t.utf8Locked(c)
	}
	return line{}, false
}

// controlLocked acts on a control character; those without a meaning
// here (Ctrl-D included) are ignored.
func (t *TTY) controlLocked(c byte) {
	switch c {
	case del, bs:
		t.eraserLocked()
	case ctrlA:
		t.homeLocked()
	case ctrlE:
		t.endLocked()
	case ctrlB:
		t.leftLocked()
	case ctrlF:
		t.rightLocked()
	case ctrlK:
		t.killToEndLocked()
	case ctrlU:
		t.killToStartLocked()
	case ctrlW:
		t.killWordLocked()
	case ctrlL:
		t.clearScreenLocked()
	case ctrlP:
		t.historyLocked(-1)
	case ctrlN:
		t.historyLocked(+1)
	case tab:
		t.completeLocked()
	}
}

// maxEsc cuts escape sequences, so garbage cannot hide input for long.
const maxEsc = 16

// escapeLocked collects an escape sequence: ESC, then '[' (CSI) with
// parameter bytes up to a final byte, or 'O' (SS3) and one byte, or any
// other single byte. A complete sequence is a key (keyLocked); the state
// lives in t.esc, so a sequence split across reads completes on the next.
func (t *TTY) escapeLocked(c byte) {
	t.esc = append(t.esc, c)
	n := len(t.esc)
	switch {
	case n == 2 && (c == '[' || c == 'O'):
		return // CSI or SS3: more to come
	case n > 2 && t.esc[1] == '[' && c >= 0x20 && c <= 0x3f && n < maxEsc:
		return // CSI parameter or intermediate byte
	}
	seq := string(t.esc)
	t.esc = nil
	t.keyLocked(seq)
}

// keys maps the escape sequences of editing keys (xterm's and the Linux
// console's spellings) to the control character doing the same.
var keys = map[string]byte{
	"\x1b[A": ctrlP, "\x1bOA": ctrlP, // Up
	"\x1b[B": ctrlN, "\x1bOB": ctrlN, // Down
	"\x1b[C": ctrlF, "\x1bOC": ctrlF, // Right
	"\x1b[D": ctrlB, "\x1bOD": ctrlB, // Left
	"\x1b[H": ctrlA, "\x1bOH": ctrlA, "\x1b[1~": ctrlA, "\x1b[7~": ctrlA, // Home
	"\x1b[F": ctrlE, "\x1bOF": ctrlE, "\x1b[4~": ctrlE, "\x1b[8~": ctrlE, // End
}

// keyLocked acts on a complete escape sequence; unknown ones are ignored.
func (t *TTY) keyLocked(seq string) {
	if seq == "\x1b[3~" { // Delete
		t.deleteLocked()
		return
	}
	if c, ok := keys[seq]; ok {
		t.controlLocked(c)
	}
}

// utf8Locked collects a multi-byte UTF-8 character; an invalid byte or a
// control character is dropped so binary garbage never reaches the line as
// broken text.
func (t *TTY) utf8Locked(c byte) {
	t.utf8buf = append(t.utf8buf, c)
	for len(t.utf8buf) > 0 && utf8.FullRune(t.utf8buf) {
		r, n := utf8.DecodeRune(t.utf8buf)
		if r == utf8.RuneError && n <= 1 {
			t.utf8buf = t.utf8buf[1:]
			continue
		}
		if !unicode.IsControl(r) { // C1 controls (U+0080..U+009F)
			t.insertLocked(append([]byte(nil), t.utf8buf[:n]...))
		}
		t.utf8buf = t.utf8buf[n:]
	}
	if len(t.utf8buf) == 0 {
		t.utf8buf = nil
	}
}

// newlineLocked completes the current line and enters it in the history.
func (t *TTY) newlineLocked() line {
	t.endLocked()
	t.echo([]byte("\n"))
	l := line{text: string(t.cur), tooLong: t.curLong}
	t.hist.add(l.text)
	t.resetLineLocked()
	return l
}

func (t *TTY) resetLineLocked() {
	t.cur, t.pos, t.curLong, t.utf8buf, t.esc, t.editing = t.cur[:0], 0, false, nil, nil, false
	t.hist.reset()
}
