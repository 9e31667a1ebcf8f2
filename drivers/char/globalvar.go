package char

import (
	"fmt"
	"io"
	"sync"

	"gomenuos/fs"
	"gomenuos/sched"
)

// GlobalvarSize is the seed driver's buffer size.
const GlobalvarSize = 1024

// globalvar is the seed's demo device: a read sleeps until a write has
// happened, then returns what was written since the last read and clears
// the flag; a write stores its bytes, sets the flag and wakes the readers.
// Unlike the seed's copy_from_user into a fixed buffer, a write that does
// not fit fails and changes nothing.
//
// Lock contract: mu guards data, n and flag. outq is woken after mu is
// released; readers check flag under mu in their wait condition.
type globalvar struct {
	major uint32

	mu   sync.Mutex
	data [GlobalvarSize]byte
	n    int  // bytes written since the last read
	flag bool // a write happened since the last read (the seed's flag)

	outq sched.WaitQueue // readers waiting for a write (the seed's outq)
}

// gv is the loaded device, nil while the module is not loaded.
var gv struct {
	mu  sync.Mutex
	dev *globalvar
}

// globalvarInit registers the device with a dynamic major and prints it,
// as the seed's module_init does (Linux: register_chrdev(0, ...) + printk).
func globalvarInit(out io.Writer) error {
	g := &globalvar{}
	major, err := fs.RegisterChrdev(0, "globalvar", globalvarFops{g})
	if err != nil {
		return err
	}
	g.major = major
	gv.mu.Lock()
	gv.dev = g
	gv.mu.Unlock()
	fmt.Fprintf(out, "major = %d\n", major)
	return nil
}

// globalvarExit unregisters the device; EBUSY while it is open
// (Linux: unregister_chrdev in module_exit, refused by the module refcount).
func globalvarExit() error {
	gv.mu.Lock()
	defer gv.mu.Unlock()
	if err := fs.UnregisterChrdev(gv.dev.major, "globalvar"); err != nil {
		return err
	}
	gv.dev = nil
	return nil
}

// globalvarFops are the device's file operations (the seed's
// globalvar_fops).
type globalvarFops struct{ g *globalvar }

// Read sleeps until a write happened, then hands out what was written
// since the last read. Linux: globalvar_read with wait_event_interruptible.
func (o globalvarFops) Read(t *sched.Task, f *fs.File, p []byte, _ *int64) (int, error) {
	g := o.g
	for {
		if f.Flags&fs.O_NONBLOCK != 0 && !g.ready() {
			return 0, fs.EAGAIN
		}
		if err := g.outq.WaitEventInterruptible(t, g.ready); err != nil {
			return 0, err // ErrRestartSys: the reader was interrupted
		}
		if n, ok := g.take(p); ok {
			return n, nil
		}
		// Another reader took the data between the wake-up and take.
	}
}

// ready is the wait condition: a write happened since the last read.
func (g *globalvar) ready() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flag
}

// take copies out the pending bytes; the flag clears once all are taken.
func (g *globalvar) take(p []byte) (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.flag {
		return 0, false
	}
	k := copy(p, g.data[:g.n])
	g.n = copy(g.data[:], g.data[k:g.n])
	g.flag = g.n > 0
	return k, true
}

// Write appends p to what the next read returns and wakes the readers.
// A write longer than the buffer is EFBIG, one that does not fit beside
// unread bytes ENOSPC; neither changes anything. Linux: globalvar_write
// with wake_up_interruptible.
func (o globalvarFops) Write(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	g := o.g
	if len(p) > GlobalvarSize {
		return 0, fs.EFBIG
	}
	g.mu.Lock()
	if g.n+len(p) > GlobalvarSize {
		g.mu.Unlock()
		return 0, fs.ENOSPC
	}
	g.n += copy(g.data[g.n:], p)
	g.flag = true
	g.mu.Unlock()
	g.outq.WakeUpInterruptible()
	return len(p), nil
}

// Poll: readable after a write, writable while there is room.
func (o globalvarFops) Poll(*fs.File) fs.PollMask {
	g := o.g
	g.mu.Lock()
	defer g.mu.Unlock()
	var m fs.PollMask
	if g.flag {
		m |= fs.PollIn
	}
	if g.n < GlobalvarSize {
		m |= fs.PollOut
	}
	return m
}

func (globalvarFops) Ioctl(*sched.Task, *fs.File, uint32, uintptr) (uintptr, error) {
	return 0, fs.ENOTTY
}

func (globalvarFops) Release(*fs.File) error { return nil }
