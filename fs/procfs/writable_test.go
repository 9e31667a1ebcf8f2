package procfs

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"gomenuos/fs"
	"gomenuos/sched"
)

// A writable proc file shows its setting, `>` (O_TRUNC) replaces it and
// `>>` adds to it; a write the file refuses fails with its error.
func TestWritableFile(t *testing.T) {
	ns := newNS(t)
	var lines []string
	mustOK(t, RegisterWritable("test/events", Writable{
		Show:     func(w io.Writer) { fmt.Fprint(w, lines) },
		Truncate: func() { lines = nil },
		Store: func(_ *sched.Task, p []byte) error {
			if string(p) == "bad\n" {
				return fs.EINVAL
			}
			lines = append(lines, string(p))
			return nil
		},
	}))
	write := func(flags int, s string) error {
		f, err := ns.Open(nil, "/proc/test/events", flags, 0)
		mustOK(t, err)
		defer f.Put()
		return fs.WriteAll(nil, f, []byte(s))
	}
	mustOK(t, write(fs.O_WRONLY|fs.O_TRUNC, "a\n"))
	mustOK(t, write(fs.O_WRONLY|fs.O_APPEND, "b\n"))
	if got := read(t, ns, nil, "/proc/test/events"); got != "[a\n b\n]" {
		t.Errorf("after > a and >> b: %q", got)
	}
	mustOK(t, write(fs.O_WRONLY|fs.O_TRUNC, "c\n"))
	if got := read(t, ns, nil, "/proc/test/events"); got != "[c\n]" {
		t.Errorf("after > c: %q", got)
	}
	if err := write(fs.O_WRONLY|fs.O_APPEND, "bad\n"); !errors.Is(err, fs.EINVAL) {
		t.Errorf("a refused write returned %v, want EINVAL", err)
	}
}
