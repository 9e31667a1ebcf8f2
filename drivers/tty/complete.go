package tty

import (
	"slices"
	"strings"
)

// Completer proposes what the word before the cursor can become: given
// the line up to the cursor, it returns where that word starts and the
// candidates (whole words; a directory ends in "/"). It runs with the
// line discipline locked and must not use the console.
type Completer func(before string) (start int, candidates []string)

// SetCompleter sets Tab's source of candidates (the shell's commands and
// paths); nil turns Tab off.
func (t *TTY) SetCompleter(c Completer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.complete = c
}

// screenWidth is where the candidate list wraps (a serial console has no
// size to ask for; 80 columns is the VT100's).
const screenWidth = 80

// completeLocked completes the word before the cursor, as bash does: one
// candidate is inserted whole (with a space after it, unless it is a
// directory); several insert what they share, and when they share nothing
// more they are listed under the line, which is drawn again below them;
// none rings the bell.
func (t *TTY) completeLocked() {
	if t.complete == nil {
		return
	}
	before := string(t.cur[:t.pos])
	start, cands := t.complete(before)
	if start < 0 || start > len(before) {
		return
	}
	word := before[start:]
	cands = slices.DeleteFunc(slices.Clone(cands), func(c string) bool { return !strings.HasPrefix(c, word) })
	switch {
	case len(cands) == 0:
		t.paintLocked([]byte{'\a'}, runes(t.cur[t.pos:]))
	case len(cands) == 1:
		add := cands[0][len(word):]
		if !strings.HasSuffix(cands[0], "/") {
			add += " "
		}
		t.insertLocked([]byte(add))
	default:
		if common := sharedPrefix(cands); len(common) > len(word) {
			t.insertLocked([]byte(common[len(word):]))
			return
		}
		t.listLocked(cands)
	}
}

// listLocked prints the candidates in columns under the line and draws the
// prompt and the line again.
func (t *TTY) listLocked(cands []string) {
	slices.Sort(cands)
	width := 0
	for _, c := range cands {
		width = max(width, len(c)+2)
	}
	perLine := max(1, screenWidth/width)
	var b strings.Builder
	b.WriteString("\n")
	for i, c := range cands {
		b.WriteString(c)
		switch {
		case i == len(cands)-1 || (i+1)%perLine == 0:
			b.WriteString("\n")
		default:
			b.WriteString(strings.Repeat(" ", width-len(c)))
		}
	}
	t.echo([]byte(b.String()))
	t.redrawLocked()
}

// sharedPrefix is the longest prefix all of words have.
func sharedPrefix(words []string) string {
	p := words[0]
	for _, w := range words[1:] {
		for !strings.HasPrefix(w, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
