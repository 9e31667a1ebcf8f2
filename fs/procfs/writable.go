package procfs

import (
	"bytes"
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Writable is a /proc file that also takes writes, as Linux's tracefs
// control files do (kprobe_events, set_event): reading shows the current
// setting, writing changes it.
type Writable struct {
	Show func(w io.Writer)
	// Truncate runs when the file is opened with O_TRUNC (`echo x > f`
	// replaces the setting, `echo x >> f` adds to it). May be nil.
	Truncate func()
	// Store takes each write's bytes; its error is the write's.
	Store func(t *sched.Task, p []byte) error
}

// RegisterWritable adds the read-write file /proc/PATH (mode 0644).
func RegisterWritable(path string, w Writable) error {
	return registerFile(path, fs.NewInode(sb, fs.ModeReg|0o644, nil, rwFops{w}))
}

type rwFops struct{ w Writable }

func (r rwFops) Open(_ *fs.Inode, f *fs.File) error {
	if f.Flags&fs.O_TRUNC != 0 && r.w.Truncate != nil {
		r.w.Truncate()
	}
	var b bytes.Buffer
	r.w.Show(&b)
	f.Private = b.Bytes()
	return nil
}

func (rwFops) Read(t *sched.Task, f *fs.File, p []byte, off *int64) (int, error) {
	return seqFops{}.Read(t, f, p, off)
}

func (r rwFops) Write(t *sched.Task, _ *fs.File, p []byte, off *int64) (int, error) {
	if err := r.w.Store(t, p); err != nil {
		return 0, err
	}
	*off += int64(len(p))
	return len(p), nil
}

func (rwFops) Poll(*fs.File) fs.PollMask { return fs.PollIn | fs.PollOut }

func (rwFops) Ioctl(*sched.Task, *fs.File, uint32, uintptr) (uintptr, error) {
	return 0, fs.ENOTTY
}

func (rwFops) Release(*fs.File) error { return nil }
