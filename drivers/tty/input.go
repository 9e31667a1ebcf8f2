package tty

import (
	"unicode"
	"unicode/utf8"
)

// Input feeds bytes received on the line; the UART driver's bottom half
// calls it from its goroutine. Linux: n_tty_receive_buf.
func (t *TTY) Input(b []byte) {
	t.mu.Lock()
	var intr func()
	woke := false
	for _, c := range b {
		switch t.receiveCharLocked(c) {
		case lineDone:
			woke = true
		case interrupt:
			woke = true
			if t.intr != nil {
				intr = t.intr
			}
		}
	}
	t.mu.Unlock()
	if intr != nil {
		intr()
	}
	if woke {
		t.readers.WakeUpInterruptible()
	}
}

// outcome says what one received byte did.
type outcome int

const (
	edited    outcome = iota // the current line changed (or nothing happened)
	lineDone                 // a line was completed or canceled
	interrupt                // Ctrl-C
)

// receiveCharLocked handles one byte. Linux: n_tty_receive_char.
func (t *TTY) receiveCharLocked(c byte) outcome {
	wasCR := t.lastCR
	t.lastCR = c == '\r'
	if t.escLen > 0 {
		t.escapeLocked(c)
		return edited
	}
	switch {
	case c == '\r' || c == '\n':
		if c == '\n' && wasCR {
			return edited // CR LF is one newline
		}
		t.newlineLocked()
		return lineDone
	case c == ctrlC:
		t.isigLocked()
		return interrupt
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
	return edited
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
// control character is dropped so binary garbage never reaches the line as broken text.
func (t *TTY) utf8Locked(c byte) {
	t.utf8buf = append(t.utf8buf, c)
	for len(t.utf8buf) > 0 && utf8.FullRune(t.utf8buf) {
		r, n := utf8.DecodeRune(t.utf8buf)
		if r == utf8.RuneError && n <= 1 {
			t.utf8buf = t.utf8buf[1:]
			continue
		}
		if !unicode.IsControl(r) { // C1 controls (U+0080..U+009F) are dropped too
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
func (t *TTY) newlineLocked() {
	t.echo([]byte("\n"))
	t.queueLocked(line{text: string(t.cur), tooLong: t.curLong})
}

// isigLocked handles Ctrl-C: echo ^C, drop the line being typed and any
// type-ahead; at the prompt the reader learns the line was canceled.
// Linux: isig (with the input flush of n_tty_receive_signal_char).
func (t *TTY) isigLocked() {
	t.echo([]byte("^C\n"))
	t.pending = nil
	t.cur, t.curLong, t.utf8buf = nil, false, nil
	if t.intr == nil {
		t.queueLocked(line{canceled: true})
	}
}

func (t *TTY) queueLocked(l line) {
	t.cur, t.curLong, t.utf8buf = nil, false, nil
	if len(t.pending) < maxPending {
		t.pending = append(t.pending, l)
	}
}
