package menu

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/fs"
)

// withRoot gives the test a root file system: /etc/motd, /etc/hosts and
// /tmp.
func withRoot(t *testing.T) {
	t.Helper()
	ns := fs.NewNamespace(fs.NewRamfs(func() time.Time { return testClock }))
	for _, d := range []string{"/etc", "/tmp"} {
		require.NoError(t, ns.Mkdir(nil, d, 0o755))
	}
	for _, f := range []string{"/etc/motd", "/etc/hosts"} {
		fd, err := ns.Open(nil, f, fs.O_CREAT|fs.O_WRONLY, 0o644)
		require.NoError(t, err)
		fd.Put()
	}
	old := fs.Root()
	fs.SetRoot(ns)
	t.Cleanup(func() { fs.SetRoot(old) })
}

// show prints its arguments in brackets, to see what a completed line held.
var show = Command{Name: "show", Desc: "print arguments", Run: func(c *Ctx, args []string) error {
	c.Printf("%q\n", args)
	return nil
}}

func TestCompleteCandidates(t *testing.T) {
	withRoot(t)
	sh := New(nil, func() {}, time.Now)
	require.NoError(t, sh.Register(show))
	for _, tc := range []struct {
		before string
		start  int
		want   []string
	}{
		{"", 0, []string{"help", "jobs", "kill", "quit", "show", "sleep", "time", "version"}},
		{"s", 0, []string{"show", "sleep"}},
		{"  ve", 2, []string{"version"}},
		{"show ", 5, []string{"etc/", "tmp/"}},
		{"show /", 5, []string{"/etc/", "/tmp/"}},
		{"show /etc/", 5, []string{"/etc/hosts", "/etc/motd"}},
		{"show /etc/m", 5, []string{"/etc/motd"}},
		{"echo hi >/t", 9, []string{"/tmp/"}},
		{"show /nope/", 5, nil},
	} {
		start, got := sh.complete(tc.before)
		assert.Equal(t, tc.start, start, "%q", tc.before)
		assert.Equal(t, tc.want, got, "%q", tc.before)
	}
}

// TestTabOnTheConsole types Tab on a real line discipline: command names
// and paths complete, and several candidates are listed.
func TestTabOnTheConsole(t *testing.T) {
	withRoot(t)
	m := newTerm(t, show)
	m.typ("sh\t/e\tm\t\r")
	m.waitFor("MenuOS>>show /etc/motd \n" + fmt.Sprintf("%q", []string{"/etc/motd"}) + "\nMenuOS>>")
	m.typ("s\t\x15\r")
	m.waitFor("MenuOS>>s\nshow   sleep\nMenuOS>>s\b \b\nMenuOS>>")
	assert.NotContains(t, m.scr.String(), "This is a wrong cmd", strings.ReplaceAll(m.scr.String(), "\r", ""))
}
