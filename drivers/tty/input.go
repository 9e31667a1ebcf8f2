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
	wasCR := t.lastCR
	t.lastCR = c == '\r'
	if t.escLen > 0 {
		t.escapeLocked(c)
		return line{}, false
	}
	switch {
	case c == '\r' || c == '\n':
		if c == '\n' && wasCR {
			return line{}, false // CR LF is one newline
		}
		return t.newlineLocked(), true
	case c == ctrlC:
		// ^C at the prompt: the reader starts over with a new prompt.
		t.echo([]byte("^C\n"))
		t.resetLineLocked()
		return line{canceled: true}, true
	case c == del || c == bs:
		t.eraserLocked()
	case c == ctrlU:
		for len(t.cur) > 0 {
			t.eraserLocked()
		}
	case c == esc:
		t.escLen = 1
	case c == '\t':
		t.addLocked([]byte{' '})
	case c < 0x20 || c == ctrlD:
		// Other control characters (Ctrl-D included) are ignored.
	case c < utf8.RuneSelf:
		t.addLocked([]byte{c})
	default:
		t.utf8Locked(c)
	}
	return line{}, false
}

// escapeLocked swallows an escape sequence (arrow keys send ESC [ A): ESC
// then either '[' with parameter bytes up to a final byte, or one byte.
// Sequences are cut at 16 bytes so garbage cannot hide input for long.
func (t *TTY) escapeLocked(c byte) {
	t.escLen++
	switch {
	case t.escLen == 2 && (c == '[' || c == 'O'):
		return // CSI or SS3: more to come
	case t.escLen > 2 && c >= 0x20 && c <= 0x3f && t.escLen < 16:
		return // CSI parameter or intermediate byte
	}
	t.escLen = 0
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
			t.addLocked(t.utf8buf[:n])
		}
		t.utf8buf = t.utf8buf[n:]
	}
	if len(t.utf8buf) == 0 {
		t.utf8buf = nil
	}
}

// addLocked appends a character to the line and echoes it, or drops it and
// flags the line when it would pass MaxLine.
func (t *TTY) addLocked(ch []byte) {
	if len(t.cur)+len(ch) > MaxLine {
		t.curLong = true
		return
	}
	t.cur = append(t.cur, ch...)
	t.echo(ch)
}

// eraserLocked removes the last character and rubs it out on the screen.
// Linux: eraser.
func (t *TTY) eraserLocked() {
	t.utf8buf = nil
	if len(t.cur) == 0 {
		return
	}
	_, n := utf8.DecodeLastRune(t.cur)
	t.cur = t.cur[:len(t.cur)-n]
	t.echo([]byte("\b \b"))
}

// newlineLocked completes the current line.
func (t *TTY) newlineLocked() line {
	t.echo([]byte("\n"))
	l := line{text: string(t.cur), tooLong: t.curLong}
	t.resetLineLocked()
	return l
}

func (t *TTY) resetLineLocked() {
	t.cur, t.curLong, t.utf8buf, t.escLen = t.cur[:0], false, nil, 0
}
