package tty

import (
	"bytes"
	"unicode/utf8"
)

// Line editing at the cursor (readline's keys; see the package comment).
// A character typed at the end of the line is echoed as itself and
// Backspace there rubs out with "\b \b", as before cursor movement existed,
// so piped input looks the same. Edits inside the line repaint the rest of
// the line and step back with "\b", which every terminal understands.

// startLineLocked begins a line: what the screen line holds now (the
// shell's prompt) is kept for repaints.
func (t *TTY) startLineLocked() {
	t.outMu.Lock()
	t.prompt = append(t.prompt[:0], t.col...)
	t.outMu.Unlock()
	t.editing = true
}

// paintLocked writes the terminal bytes of an edit (no newline) and
// records the screen line they leave: the prompt and the line, with the
// cursor back characters from its end.
func (t *TTY) paintLocked(p []byte, back int) {
	t.outMu.Lock()
	defer t.outMu.Unlock()
	_, _ = t.out.Write(p)
	t.col = append(append(t.col[:0], t.prompt...), t.cur...)
	t.colOK = len(t.col) <= maxCol
	t.back = back
}

func runes(b []byte) int { return utf8.RuneCount(b) }

// steps returns n backspaces, which move the cursor left without erasing.
func steps(n int) []byte { return bytes.Repeat([]byte{'\b'}, n) }

func spaces(n int) []byte { return bytes.Repeat([]byte{' '}, n) }

// join concatenates its arguments into a new slice.
func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// insertLocked inserts ch at the cursor, or drops it and flags the line
// when it would pass MaxLine.
func (t *TTY) insertLocked(ch []byte) {
	if len(t.cur)+len(ch) > MaxLine {
		t.curLong = true
		return
	}
	if t.pos == len(t.cur) {
		t.cur = append(t.cur, ch...)
		t.pos = len(t.cur)
		t.echo(ch)
		return
	}
	tail := append([]byte(nil), t.cur[t.pos:]...)
	t.cur = join(t.cur[:t.pos], ch, tail)
	t.pos += len(ch)
	t.paintLocked(join(ch, tail, steps(runes(tail))), runes(tail))
}

// eraserLocked removes the character before the cursor (Backspace).
// Linux: eraser.
func (t *TTY) eraserLocked() {
	t.utf8buf = nil
	if t.pos == 0 {
		return
	}
	_, n := utf8.DecodeLastRune(t.cur[:t.pos])
	if t.pos == len(t.cur) {
		t.cur = t.cur[:t.pos-n]
		t.pos = len(t.cur)
		t.echo([]byte("\b \b"))
		return
	}
	tail := append([]byte(nil), t.cur[t.pos:]...)
	t.cur = join(t.cur[:t.pos-n], tail)
	t.pos -= n
	t.paintLocked(join([]byte{'\b'}, tail, []byte{' '}, steps(runes(tail)+1)), runes(tail))
}

// deleteLocked removes the character under the cursor (Delete).
func (t *TTY) deleteLocked() {
	if t.pos == len(t.cur) {
		return
	}
	_, n := utf8.DecodeRune(t.cur[t.pos:])
	tail := append([]byte(nil), t.cur[t.pos+n:]...)
	t.cur = join(t.cur[:t.pos], tail)
	t.paintLocked(join(tail, []byte{' '}, steps(runes(tail)+1)), runes(tail))
}

func (t *TTY) leftLocked() {
	if t.pos == 0 {
		return
	}
	_, n := utf8.DecodeLastRune(t.cur[:t.pos])
	t.pos -= n
	t.paintLocked([]byte{'\b'}, runes(t.cur[t.pos:]))
}

// rightLocked moves over the character under the cursor by printing it.
func (t *TTY) rightLocked() {
	if t.pos == len(t.cur) {
		return
	}
	_, n := utf8.DecodeRune(t.cur[t.pos:])
	t.pos += n
	t.paintLocked(t.cur[t.pos-n:t.pos], runes(t.cur[t.pos:]))
}

func (t *TTY) homeLocked() {
	if k := runes(t.cur[:t.pos]); k > 0 {
		t.pos = 0
		t.paintLocked(steps(k), runes(t.cur))
	}
}

func (t *TTY) endLocked() {
	if t.pos < len(t.cur) {
		rest := t.cur[t.pos:]
		t.pos = len(t.cur)
		t.paintLocked(rest, 0)
	}
}

// killToEndLocked deletes from the cursor to the end of the line (Ctrl-K).
func (t *TTY) killToEndLocked() {
	if k := runes(t.cur[t.pos:]); k > 0 {
		t.cur = t.cur[:t.pos]
		t.paintLocked(join(spaces(k), steps(k)), 0)
	}
}

// killToStartLocked deletes from the start of the line to the cursor
// (Ctrl-U). Linux: n_tty's VKILL, which erases the whole line as the
// cursor is always at its end there.
func (t *TTY) killToStartLocked() { t.killBackToLocked(0) }

// killWordLocked deletes the word before the cursor and the spaces after
// it (Ctrl-W). Linux: n_tty's VWERASE.
func (t *TTY) killWordLocked() {
	i := t.pos
	for i > 0 && t.cur[i-1] == ' ' {
		i--
	}
	for i > 0 && t.cur[i-1] != ' ' {
		i--
	}
	t.killBackToLocked(i)
}

// killBackToLocked deletes cur[start:pos]. At the end of the line it rubs
// out character by character, as n_tty does.
func (t *TTY) killBackToLocked(start int) {
	k := runes(t.cur[start:t.pos])
	if k == 0 {
		return
	}
	if t.pos == len(t.cur) {
		t.cur = t.cur[:start]
		t.pos = start
		t.echo(bytes.Repeat([]byte("\b \b"), k))
		return
	}
	tail := append([]byte(nil), t.cur[t.pos:]...)
	t.cur = join(t.cur[:start], tail)
	t.pos = start
	t.paintLocked(join(steps(k), tail, spaces(k), steps(k+runes(tail))), runes(tail))
}

// replaceLocked shows text instead of the line (a history entry), with the
// cursor at its end.
func (t *TTY) replaceLocked(text string) {
	if len(text) > MaxLine {
		text = text[:MaxLine]
	}
	before, old := runes(t.cur[:t.pos]), runes(t.cur)
	t.cur = append(t.cur[:0], text...)
	t.pos = len(t.cur)
	extra := max(0, old-runes(t.cur))
	t.paintLocked(join(steps(before), t.cur, spaces(extra), steps(extra)), 0)
}

// clearScreenLocked clears the screen and draws the prompt and the line at
// its top (Ctrl-L), with ANSI's cursor-home and erase-display.
func (t *TTY) clearScreenLocked() {
	back := runes(t.cur[t.pos:])
	t.paintLocked(join([]byte("\x1b[H\x1b[2J"), t.prompt, t.cur, steps(back)), back)
}

// redrawLocked draws the prompt and the line again on a fresh screen line
// (after Tab listed candidates).
func (t *TTY) redrawLocked() {
	back := runes(t.cur[t.pos:])
	t.paintLocked(join(t.prompt, t.cur, steps(back)), back)
}
