package fs

import (
	"sync"

	"gomenuos/sched"
)

// Pipes (Linux: fs/pipe.c): a bounded byte queue with a read end and a
// write end, each an open file of an inode in the internal pipefs. A
// reader sleeps until data or the last writer's close (EOF); a writer
// sleeps while the pipe is full and gets EPIPE once no reader is left.
// Writes of at most PipeBuf bytes are never interleaved with others.

// Pipe sizes (Linux: PIPE_DEF_BUFFERS pages, PIPE_BUF).
const (
	PipeSize = 64 << 10
	PipeBuf  = 4096
)

var pipefs = NewSuperBlock("pipefs", nil)

// pipe is the shared state of one pipe.
// Lock contract: mu guards buf, readers and writers.
type pipe struct {
	mu      sync.Mutex
	buf     []byte // the queued bytes: a window of store, or of a newer array while store is not empty
	store   []byte // the largest array buf has had, reused from its start whenever the pipe empties
	readers int
	writers int
	rwait   sched.WaitQueue // readers wait here for data or EOF
	wwait   sched.WaitQueue // writers wait here for room or no readers
}

// NewPipe returns the read and write ends of a fresh pipe (Linux:
// create_pipe_files). flags may carry O_NONBLOCK.
func NewPipe(flags int) (r, w *File) {
	inode := NewInode(pipefs, ModeFIFO|0o600, nil, nil)
	p := &pipe{readers: 1, writers: 1}
	inode.Private = p
	r = NewFile(inode, O_RDONLY|flags&O_NONBLOCK, pipeReadOps{})
	w = NewFile(inode, O_WRONLY|flags&O_NONBLOCK, pipeWriteOps{})
	r.Path = "pipe:[" + itoa(inode.Ino) + "]"
	w.Path = r.Path
	return r, w
}

func pipeOf(f *File) *pipe { return f.Inode.Private.(*pipe) }

type pipeReadOps struct{ NoFileOps }
type pipeWriteOps struct{ NoFileOps }

// Read takes what is there, sleeping while the pipe is empty and a writer
// remains (Linux: pipe_read).
func (pipeReadOps) Read(t *sched.Task, f *File, p []byte, _ *int64) (int, error) {
	pp := pipeOf(f)
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := pp.rwait.WaitEventInterruptible(t, func() bool {
		pp.mu.Lock()
		if len(pp.buf) == 0 && pp.writers > 0 {
			pp.mu.Unlock()
			return f.Flags&O_NONBLOCK != 0
		}
		n = copy(p, pp.buf)
		pp.buf = pp.buf[n:]
		if len(pp.buf) == 0 {
			pp.buf = pp.store[:0] // no allocation for the next write
		}
		pp.mu.Unlock() // no defer: the condition of every pipe read
		return true
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		pp.mu.Lock()
		eof := pp.writers == 0
		pp.mu.Unlock()
		if !eof {
			return 0, EAGAIN
		}
	}
	pp.wwait.WakeUpAll()
	return n, nil
}

// Write queues p, sleeping while the pipe is full; EPIPE once no reader
// is left (Linux: pipe_write; the caller sends SIGPIPE).
func (pipeWriteOps) Write(t *sched.Task, f *File, p []byte, _ *int64) (int, error) {
	pp := pipeOf(f)
	if len(p) == 0 {
		return 0, nil
	}
	done := 0
	for done < len(p) {
		var broken bool
		var n int
		err := pp.wwait.WaitEventInterruptible(t, func() bool {
			pp.mu.Lock()
			ok := pp.writeLocked(f, p[done:], &n, &broken)
			pp.mu.Unlock() // no defer: the condition of every pipe write
			return ok
		})
		if err != nil || broken || n == 0 {
			switch {
			case done > 0:
				return done, nil
			case err != nil:
				return 0, err
			case broken:
				return 0, EPIPE
			}
			return 0, EAGAIN
		}
		done += n
		pp.rwait.WakeUpAll()
	}
	return done, nil
}

// writeLocked is a write's condition: it queues what fits of p (n bytes)
// and reports true, or reports whether a full pipe should not be waited
// for; broken when no reader is left.
func (pp *pipe) writeLocked(f *File, p []byte, n *int, broken *bool) bool {
	if pp.readers == 0 {
		*broken = true
		return true
	}
	room := PipeSize - len(pp.buf)
	want := len(p)
	if want <= PipeBuf && room < want {
		return f.Flags&O_NONBLOCK != 0 // small writes go in whole
	}
	if room == 0 {
		return f.Flags&O_NONBLOCK != 0
	}
	*n = min(room, want)
	pp.buf = append(pp.buf, p[:*n]...)
	if cap(pp.buf) > cap(pp.store) {
		pp.store = pp.buf[:0]
	}
	return true
}

// Poll: the read end is readable with data or at EOF (POLLHUP), the write
// end writable with room, POLLERR with no reader left (Linux: pipe_poll).
func (pipeReadOps) Poll(f *File) PollMask {
	pp := pipeOf(f)
	pp.mu.Lock()
	defer pp.mu.Unlock()
	var m PollMask
	if len(pp.buf) > 0 {
		m |= PollIn
	}
	if pp.writers == 0 {
		m |= PollHup
	}
	return m
}

func (pipeWriteOps) Poll(f *File) PollMask {
	pp := pipeOf(f)
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.readers == 0 {
		return PollErr | PollOut
	}
	if PipeSize-len(pp.buf) >= PipeBuf {
		return PollOut
	}
	return 0
}

// PollQueues are where a poller waits for either end to change.
func (pipeReadOps) PollQueues(f *File) []*sched.WaitQueue {
	return []*sched.WaitQueue{&pipeOf(f).rwait}
}
func (pipeWriteOps) PollQueues(f *File) []*sched.WaitQueue {
	return []*sched.WaitQueue{&pipeOf(f).wwait}
}

// Release closes one end and wakes the other side (Linux: pipe_release).
func (pipeReadOps) Release(f *File) error {
	pp := pipeOf(f)
	pp.mu.Lock()
	pp.readers--
	pp.mu.Unlock()
	pp.wwait.WakeUpAll()
	return nil
}

func (pipeWriteOps) Release(f *File) error {
	pp := pipeOf(f)
	pp.mu.Lock()
	pp.writers--
	pp.mu.Unlock()
	pp.rwait.WakeUpAll()
	return nil
}

// PollWaiter is implemented by file operations whose readiness can change:
// a poller sleeps on the returned queues (Linux: poll_wait in f_op->poll).
// Files without it are always ready.
type PollWaiter interface {
	PollQueues(f *File) []*sched.WaitQueue
}

// Queued returns the bytes in a pipe's buffer (FIONREAD), or -1 if f is
// not a pipe.
func Queued(f *File) int {
	pp, ok := f.Inode.Private.(*pipe)
	if !ok {
		return -1
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return len(pp.buf)
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
