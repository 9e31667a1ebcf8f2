package procfs

import (
	"bytes"
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// seqFops generate a file's whole text when it is opened and serve reads
// from that snapshot, so a reader sees one consistent table however small
// its reads (Linux: seq_file with single_open).
type seqFops struct {
	show func(w io.Writer)
}

func (s seqFops) Open(_ *fs.Inode, f *fs.File) error {
	var b bytes.Buffer
	s.show(&b)
	f.Private = b.Bytes()
	return nil
}

func (seqFops) Read(_ *sched.Task, f *fs.File, p []byte, off *int64) (int, error) {
	text := f.Private.([]byte)
	if *off >= int64(len(text)) {
		return 0, nil
	}
	n := copy(p, text[*off:])
	*off += int64(n)
	return n, nil
}

func (seqFops) Write(*sched.Task, *fs.File, []byte, *int64) (int, error) { return 0, fs.EACCES }

func (seqFops) Poll(*fs.File) fs.PollMask { return fs.PollIn }

func (seqFops) Ioctl(*sched.Task, *fs.File, uint32, uintptr) (uintptr, error) {
	return 0, fs.ENOTTY
}

func (seqFops) Release(*fs.File) error { return nil }
