// Package char holds the character-device drivers (Linux: drivers/char):
// the memory devices /dev/null, /dev/zero and /dev/urandom, the console,
// and the seed's globalvar demo driver loaded with insmod.
package char

import (
	"crypto/rand"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Memory devices: major 1, minors as in Linux's devices.txt.
const (
	MemMajor     = 1
	MinorNull    = 3
	MinorZero    = 5
	MinorURandom = 9
)

// memFops is what a major-1 node opens with; Open picks the minor's own
// operations (Linux: memory_fops → memory_open).
type memFops struct{ fs.NoFileOps }

func (memFops) Open(inode *fs.Inode, f *fs.File) error {
	switch inode.Rdev.Minor() {
	case MinorNull:
		f.ReplaceOps(nullFops{})
	case MinorZero:
		f.ReplaceOps(zeroFops{})
	case MinorURandom:
		f.ReplaceOps(urandomFops{})
	default:
		return fs.ENXIO
	}
	return nil
}

// nullFops: reads see end of file, writes vanish (Linux: null_fops).
type nullFops struct{ fs.NoFileOps }

func (nullFops) Read(*sched.Task, *fs.File, []byte, *int64) (int, error) { return 0, nil }

func (nullFops) Write(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	return len(p), nil
}

// zeroFops: reads fill with zero bytes, writes vanish (Linux: zero_fops).
type zeroFops struct{ nullFops }

func (zeroFops) Read(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	clear(p)
	return len(p), nil
}

// urandomFops: reads give cryptographic random bytes; writes are accepted
// and dropped, as our pool is the Go runtime's (Linux: urandom_fops).
type urandomFops struct{ nullFops }

func (urandomFops) Read(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	return rand.Read(p)
}
