package tty

import (
	"io"
	"unicode/utf8"
)

// maxCol bounds the remembered current output line (prompt plus a full
// input line plus slack); past it the line is not redrawn.
const maxCol = MaxLine + 256

// Write prints p on the console as foreground output: newlines become CR LF
// and no other write is interleaved with it. Linux: n_tty_write.
func (t *TTY) Write(p []byte) (int, error) {
	t.outMu.Lock()
	defer t.outMu.Unlock()
	if err := t.outputLocked(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Background returns a writer for output that arrives while the user may be
// typing (background jobs): each write starts on a fresh line, and the line
// it interrupted (the prompt and what was typed so far) is printed again
// after it, like Linux's reprint.
func (t *TTY) Background() io.Writer { return backgroundWriter{t} }

type backgroundWriter struct{ t *TTY }

func (w backgroundWriter) Write(p []byte) (int, error) {
	t := w.t
	t.outMu.Lock()
	defer t.outMu.Unlock()
	saved, redraw, back := append([]byte(nil), t.col...), t.colOK && len(t.col) > 0, t.back
	if len(t.col) > 0 || !t.colOK {
		if err := t.outputLocked([]byte("\n")); err != nil {
			return 0, err
		}
	}
	if err := t.outputLocked(p); err != nil {
		return 0, err
	}
	if len(p) > 0 && p[len(p)-1] != '\n' {
		if err := t.outputLocked([]byte("\n")); err != nil {
			return 0, err
		}
	}
	if redraw {
		if err := t.outputLocked(saved); err != nil {
			return 0, err
		}
		// Put the cursor back where the line being edited has it.
		if _, err := t.out.Write(steps(back)); err != nil {
			return 0, err
		}
		t.back = back
	}
	return len(p), nil
}

// echo prints input characters back; errors are dropped as a UART cannot
// fail in a way the typist could act on.
func (t *TTY) echo(p []byte) {
	t.outMu.Lock()
	defer t.outMu.Unlock()
	_ = t.outputLocked(p)
}

// outputLocked writes p with NL→CR NL and tracks the current output line.
// Linux: do_output_char (ONLCR). The translation goes through the TTY's
// own buffer, kept from one write to the next (a program's every printf
// is a write here).
func (t *TTY) outputLocked(p []byte) error {
	buf := t.obuf[:0]
	for _, c := range p {
		if c == '\n' {
			buf = append(buf, '\r')
		}
		buf = append(buf, c)
		t.trackLocked(c)
	}
	if cap(buf) <= maxKeptOutput {
		t.obuf = buf
	}
	_, err := t.out.Write(buf)
	return err
}

// maxKeptOutput bounds the translation buffer a TTY keeps.
const maxKeptOutput = 4096

// trackLocked keeps col equal to what the current screen line shows.
func (t *TTY) trackLocked(c byte) {
	switch {
	case c == '\n':
		t.col, t.colOK, t.back = t.col[:0], true, 0
	case c == '\b':
		if len(t.col) > 0 {
			_, n := utf8.DecodeLastRune(t.col)
			t.col = t.col[:len(t.col)-n]
		}
	case len(t.col) >= maxCol:
		t.colOK = false
	default:
		t.col = append(t.col, c)
	}
}
