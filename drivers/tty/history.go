package tty

import "strings"

// maxHistory is how many lines Up can reach back (bash keeps 500; the
// console's lines are short-lived).
const maxHistory = 100

// history holds the lines entered, oldest first, and where Up and Down
// are while browsing them (readline's history list; n_tty has none).
type history struct {
	lines    []string
	browsing bool
	at       int    // the entry shown; len(lines) is the draft
	draft    string // the line being typed when browsing began
}

// add enters a completed line, unless it is blank or repeats the last one
// (bash's ignoredups).
func (h *history) add(l string) {
	if strings.TrimSpace(l) == "" || len(h.lines) > 0 && h.lines[len(h.lines)-1] == l {
		return
	}
	h.lines = append(h.lines, l)
	if len(h.lines) > maxHistory {
		h.lines = append(h.lines[:0], h.lines[1:]...)
	}
}

// reset ends browsing (a line was completed or canceled).
func (h *history) reset() { h.browsing = false }

// move steps dir entries (-1 older, +1 newer) from the one shown and
// returns the line to show; cur is the line as typed, kept as the draft
// when browsing begins. ok is false past either end.
func (h *history) move(dir int, cur string) (text string, ok bool) {
	if !h.browsing {
		h.browsing, h.at, h.draft = true, len(h.lines), cur
	}
	next := h.at + dir
	if next < 0 || next > len(h.lines) {
		return "", false
	}
	h.at = next
	if next == len(h.lines) {
		return h.draft, true
	}
	return h.lines[next], true
}

// historyLocked shows the older (dir -1) or newer (+1) history line.
func (t *TTY) historyLocked(dir int) {
	if text, ok := t.hist.move(dir, string(t.cur)); ok {
		t.replaceLocked(text)
	}
}
