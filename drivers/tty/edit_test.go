package tty

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vt is what a terminal shows after the bytes the tty wrote: enough of a
// VT100 for the editor's output (printable text, CR, LF, BS, BEL, and
// ESC[H ESC[2J).
type vt struct {
	lines    [][]rune
	row, col int
}

func render(out string) *vt {
	v := &vt{lines: [][]rune{nil}}
	for len(out) > 0 {
		switch {
		case strings.HasPrefix(out, "\x1b[H"):
			v.row, v.col, out = 0, 0, out[3:]
			continue
		case strings.HasPrefix(out, "\x1b[2J"):
			v.lines, out = [][]rune{nil}, out[4:]
			continue
		}
		r, n := utf8.DecodeRuneInString(out)
		out = out[n:]
		switch r {
		case '\r':
			v.col = 0
		case '\n':
			v.row++
			for len(v.lines) <= v.row {
				v.lines = append(v.lines, nil)
			}
		case '\b':
			v.col = max(0, v.col-1)
		case '\a':
		default:
			line := v.lines[v.row]
			for len(line) <= v.col {
				line = append(line, ' ')
			}
			line[v.col] = r
			v.lines[v.row] = line
			v.col++
		}
	}
	return v
}

// line is screen row i without trailing blanks.
func (v *vt) line(i int) string { return strings.TrimRight(string(v.lines[i]), " ") }

// edit types in after a prompt and returns the line read and the screen.
func edit(t *testing.T, tt *TTY, s *screen, in string) (string, *vt) {
	t.Helper()
	tt.Write([]byte("MenuOS>>"))
	tt.Input([]byte(in))
	got, err := readLine(t, tt)
	require.NoError(t, err)
	return got, render(s.String())
}

func TestEditingKeys(t *testing.T) {
	for _, tc := range []struct{ name, in, line string }{
		{"Left, then type", "helo\x1b[Dl\r", "hello"},
		{"Left twice and Right (xterm application mode)", "abd\x1bOD\x1bOD\x1bOCc\r", "abcd"},
		{"Ctrl-B and Ctrl-F", "ac\x02b\x06d\r", "abcd"},
		{"Home (ESC[H) then type", "elp\x1b[Hh\r", "help"},
		{"Home (ESC[1~) and End (ESC[4~)", "bc\x1b[1~a\x1b[4~d\r", "abcd"},
		{"Ctrl-A and Ctrl-E", "ello\x01h\x05!\r", "hello!"},
		{"Backspace inside the line", "helxlo\x1b[D\x1b[D\x7f\r", "hello"},
		{"Delete under the cursor", "helxlo\x1b[D\x1b[D\x1b[D\x1b[3~\r", "hello"},
		{"Ctrl-K kills to the end", "hello world\x01\x06\x06\x06\x06\x06\x0b\r", "hello"},
		{"Ctrl-U kills to the start", "junk help\x01\x06\x06\x06\x06\x06\x15\r", "help"},
		{"Ctrl-W kills the word before the cursor", "echo foo bar  \x17\r", "echo foo "},
		{"Ctrl-W inside the line", "cat /etc/x /tmp\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x17\r", "cat  /tmp"},
		{"UTF-8 moved over whole", "éü\x1b[D\x1b[Da\r", "aéü"},
		{"Left at the start and Right at the end do nothing", "\x1b[Dok\x1b[C\r", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt, s := newTTY()
			got, v := edit(t, tt, s, tc.in)
			assert.Equal(t, tc.line, got)
			assert.Equal(t, strings.TrimRight("MenuOS>>"+tc.line, " "), v.line(0), "what the screen shows")
			assert.Equal(t, 1, v.row, "the cursor went to the next line")
		})
	}
}

// TestEscapeSplitAcrossReads: an arrow key whose bytes arrive in three
// reads, each edited before the next arrives, still moves the cursor.
func TestEscapeSplitAcrossReads(t *testing.T) {
	tt, s := newTTY()
	tt.Write([]byte("MenuOS>>"))
	for _, part := range []string{"abd\x1b", "[", "D", "c\r"} {
		tt.Input([]byte(part))
		tt.mu.Lock()
		l, done := tt.editLocked()
		tt.mu.Unlock()
		if part == "c\r" {
			require.True(t, done)
			assert.Equal(t, "abcd", l.text)
		} else {
			require.False(t, done)
		}
	}
	assert.Equal(t, "MenuOS>>abcd", render(s.String()).line(0))
}

// TestControlEndsUnfinishedEscape: a control character after a stray ESC
// (or inside an unfinished CSI) is not swallowed into the sequence: ^C
// still cancels the line and a newline still ends it (the fuzzer's input
// " ^Y" ESC, then ^C "time" newline, ran " ^Ytime").
func TestControlEndsUnfinishedEscape(t *testing.T) {
	for _, tc := range []struct{ in, line string }{
		{"ab\x1b\x03", ""},       // ^C after a stray ESC: canceled
		{"ab\x1b[1\x03", ""},     // ^C inside a CSI: canceled
		{"ab\x1b\rtime\r", "ab"}, // the newline ends the line
	} {
		tt, _ := newTTY()
		tt.Input([]byte(tc.in))
		tt.mu.Lock()
		l, done := tt.editLocked()
		tt.mu.Unlock()
		require.True(t, done, "%q", tc.in)
		assert.Equal(t, tc.line, l.text, "%q", tc.in)
		assert.Equal(t, tc.line == "", l.canceled, "%q canceled", tc.in)
	}
}

func TestHistory(t *testing.T) {
	tt, s := newTTY()
	for _, l := range []string{"version\r", "help\r", "help\r", "\r"} {
		edit(t, tt, s, l)
	}
	// Every entered line joins the history unless it repeats the last one,
	// so the list grows as the cases run: version help | version ver help!
	for _, tc := range []struct{ in, line string }{
		{"\x1b[A\r", "help"},                              // Up: the last line (blank and repeated ones not kept)
		{"\x1b[A\x1b[A\r", "version"},                     // Up twice
		{"\x1b[A\x1b[A\x1b[A\x1b[A\r", "version"},         // past the oldest: stays
		{"ver\x1b[A\x1b[B\r", "ver"},                      // Down comes back to what was typed
		{"\x10\x10\x0e\r", "ver"},                         // Ctrl-P, Ctrl-P, Ctrl-N ("ver" was entered just before)
		{"\x1b[A\x1b[A\x1b[A\x1b[D\x7fl\x05!\r", "help!"}, // ver, version, help: edited like a typed line
	} {
		s = &screen{}
		tt.out = s
		got, v := edit(t, tt, s, tc.in)
		assert.Equal(t, tc.line, got, "%q", tc.in)
		assert.Equal(t, "MenuOS>>"+tc.line, v.line(0), "%q", tc.in)
	}
}

// TestHistoryShorterLineErasesTheLonger: recalling a shorter line blanks
// the rest of the longer one on the screen.
func TestHistoryShorterLineErasesTheLonger(t *testing.T) {
	tt, s := newTTY()
	edit(t, tt, s, "ls\r")
	s2 := &screen{}
	tt.out = s2
	got, v := edit(t, tt, s2, "a much longer line\x1b[A\r")
	assert.Equal(t, "ls", got)
	assert.Equal(t, "MenuOS>>ls", v.line(0))
}

func TestCtrlLClearsAndRedraws(t *testing.T) {
	tt, s := newTTY()
	tt.Write([]byte("earlier output\n"))
	got, v := edit(t, tt, s, "hepl\x1b[D\x0c\x7f\x05p\r")
	assert.Equal(t, "help", got)
	assert.Equal(t, "MenuOS>>help", v.line(0), "the prompt and the line at the top")
	assert.Contains(t, s.String(), "\x1b[H\x1b[2J")
}

// completer completes commands in the first word and a fixed file list
// after it, like the shell's.
func completer(before string) (int, []string) {
	start := strings.LastIndex(before, " ") + 1
	if start == 0 {
		return 0, []string{"hello", "help", "history", "ls"}
	}
	return start, []string{"/proc/", "/proc/self", "/tmp/"}
}

func TestTabCompletion(t *testing.T) {
	for _, tc := range []struct{ name, in, line, screen string }{
		{"one candidate, with a space", "l\t-l\r", "ls -l", ""},
		{"the shared prefix", "he\tp\r", "help", ""},
		{"a directory takes no space", "ls /t\tx\r", "ls /tmp/x", ""},
		{"shared prefix of paths", "cat /p\tself\r", "cat /proc/self", ""},
		{"nothing to complete rings the bell", "zz\t\r", "zz", ""},
		{"in the middle of the line", "he world\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\tp\r", "help world", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt, s := newTTY()
			tt.SetCompleter(completer)
			got, v := edit(t, tt, s, tc.in)
			assert.Equal(t, tc.line, got)
			assert.Equal(t, "MenuOS>>"+tc.line, v.line(0))
		})
	}
}

// TestTabListsCandidates: when the candidates share nothing more, Tab
// lists them under the line and draws the prompt and the line again.
func TestTabListsCandidates(t *testing.T) {
	tt, s := newTTY()
	tt.SetCompleter(completer)
	got, v := edit(t, tt, s, "hel\tp\r")
	assert.Equal(t, "help", got)
	assert.Equal(t, []string{"MenuOS>>hel", "hello  help", "MenuOS>>help", ""},
		[]string{v.line(0), v.line(1), v.line(2), v.line(3)})
}

// TestBackgroundOutputKeepsTheCursor: a job's output while the cursor is
// inside the line redraws the line with the cursor where it was.
func TestBackgroundOutputKeepsTheCursor(t *testing.T) {
	tt, s := newTTY()
	tt.Write([]byte("MenuOS>>"))
	got := make(chan string, 1)
	go func() {
		l, _ := tt.ReadLine(nil)
		got <- l
	}()
	tt.Input([]byte("helo\x1b[D"))
	require.Eventually(t, func() bool { return strings.HasSuffix(s.String(), "\b") }, 2e9, 1e6)
	tt.Background().Write([]byte("[1] done\n"))
	tt.Input([]byte("l\r"))
	assert.Equal(t, "hello", <-got)
	v := render(s.String())
	assert.Equal(t, []string{"MenuOS>>helo", "[1] done", "MenuOS>>hello"}, []string{v.line(0), v.line(1), v.line(2)})
}
