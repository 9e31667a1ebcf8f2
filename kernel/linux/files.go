package linux

// The runtime's file descriptors: the console (0-2), eventfds and epoll
// instances — exactly what its netpoller needs (Linux: fs/eventfd.c,
// fs/eventpoll.c). An IRQ line can be bound to an eventfd (SysIRQFD) so
// drivers wait for interrupts through the netpoller like for any fd.

import (
	"gomenuos/arch/x86"
	"gomenuos/sched"
)

type fileKind uint8

const (
	fdFree fileKind = iota
	fdConsole
	fdEventfd
	fdEpoll
)

const maxFiles = 128

type kfile struct {
	kind     fileKind
	nonblock bool
	count    uint64 // eventfd counter
}

var files = [maxFiles]kfile{{kind: fdConsole}, {kind: fdConsole}, {kind: fdConsole}}

const (
	epollIn  = 0x001
	epollOut = 0x004
	epollErr = 0x008
	epollHup = 0x010
	epollET  = 1 << 31

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	oNonblock = 0x800
)

// epItem is one fd registered with one epoll instance.
type epItem struct {
	used    bool
	pending bool // edge-triggered: an edge happened since it was last reported
	ep, fd  int32
	events  uint32
	data    uint64
}

var epItems [256]epItem

func fdValid(fd int) bool { return fd >= 0 && fd < maxFiles && files[fd].kind != fdFree }

func fdAlloc(k fileKind, nonblock bool) int64 {
	for fd := 3; fd < maxFiles; fd++ {
		if files[fd].kind == fdFree {
			files[fd] = kfile{kind: k, nonblock: nonblock}
			return int64(fd)
		}
	}
	return -eMFILE
}

func fdClose(fd int) int64 {
	if !fdValid(fd) {
		return -eBADF
	}
	if fd < 3 {
		return 0 // keep the console
	}
	for i := range epItems {
		if epItems[i].used && (epItems[i].fd == int32(fd) || epItems[i].ep == int32(fd)) {
			epItems[i] = epItem{}
		}
	}
	for l := range irqFD {
		if irqFD[l] == int32(fd) {
			irqFD[l] = 0
		}
	}
	for i := range msiFD {
		if msiFD[i] == int32(fd) {
			msiFD[i] = 0
		}
	}
	files[fd] = kfile{}
	return 0
}

func fdFcntl(fd, cmd int, arg uintptr) int64 {
	if !fdValid(fd) {
		return -eBADF
	}
	switch cmd {
	case 1, 2: // F_GETFD, F_SETFD
		return 0
	case 3: // F_GETFL
		fl := int64(2) // O_RDWR
		if files[fd].nonblock {
			fl |= oNonblock
		}
		return fl
	case 4: // F_SETFL
		files[fd].nonblock = arg&oNonblock != 0
		return 0
	}
	return -eINVAL
}

func eventfdCreate(initval uint64, flags int) int64 {
	fd := fdAlloc(fdEventfd, flags&oNonblock != 0)
	if fd >= 0 {
		files[fd].count = initval
	}
	return fd
}

func eventfdRead(fd int, buf, n uintptr) int64 {
	if n < 8 {
		return -eINVAL
	}
	f := &files[fd]
	if f.count == 0 {
		return -eAGAIN // the runtime's eventfds are all non-blocking
	}
	store64(buf, f.count)
	f.count = 0
	return 8
}

func eventfdWrite(fd int, buf, n uintptr) int64 {
	if n < 8 {
		return -eINVAL
	}
	eventfdSignal(fd, load64(buf))
	return 8
}

// eventfdSignal adds v to an eventfd and wakes its pollers (Linux:
// eventfd_signal). Used by IRQs too.
func eventfdSignal(fd int, v uint64) {
	files[fd].count += v
	for i := range epItems {
		if epItems[i].used && epItems[i].fd == int32(fd) {
			epItems[i].pending = true
		}
	}
	wakePollers()
}

// readiness reports an fd's current poll mask.
func readiness(fd int32) uint32 {
	f := &files[fd]
	switch f.kind {
	case fdEventfd:
		if f.count > 0 {
			return epollIn | epollOut
		}
		return epollOut
	case fdConsole:
		return epollOut
	}
	return epollErr | epollHup
}

func epollCreate() int64 { return fdAlloc(fdEpoll, false) }

func epollCtl(ep, op, fd int, ev uintptr) int64 {
	if !fdValid(ep) || files[ep].kind != fdEpoll || !fdValid(fd) || fd == ep {
		return -eBADF
	}
	idx := -1
	for i := range epItems {
		if epItems[i].used && epItems[i].ep == int32(ep) && epItems[i].fd == int32(fd) {
			idx = i
		}
	}
	switch op {
	case epollCtlAdd:
		if idx >= 0 {
			return -17 // EEXIST
		}
		for i := range epItems {
			if !epItems[i].used {
				idx = i
				break
			}
		}
		if idx < 0 {
			return -eNOMEM
		}
		fallthrough
	case epollCtlMod:
		if idx < 0 {
			return -eNOENT
		}
		if !userOK(ev, 12) {
			return -eFAULT
		}
		epItems[idx] = epItem{used: true, pending: true, ep: int32(ep), fd: int32(fd),
			events: load32(ev), data: load64(ev + 4)}
		wakePollers()
		return 0
	case epollCtlDel:
		if idx < 0 {
			return -eNOENT
		}
		epItems[idx] = epItem{}
		return 0
	}
	return -eINVAL
}

// epollScan copies up to max ready events of ep into buf (Linux:
// ep_send_events). Edge-triggered items are reported once per edge.
func epollScan(ep int32, buf uintptr, max int) int {
	n := 0
	for i := range epItems {
		it := &epItems[i]
		if !it.used || it.ep != ep || n >= max {
			continue
		}
		ready := readiness(it.fd) & (it.events | epollErr | epollHup)
		if ready == 0 {
			continue
		}
		if it.events&epollET != 0 {
			if !it.pending {
				continue
			}
			it.pending = false
		}
		e := buf + uintptr(n)*12
		store32(e, ready)
		store64(e+4, it.data)
		n++
	}
	return n
}

func epollWait(tf *x86.TrapFrame, ep int, buf uintptr, max, timeoutMS int, now int64) int64 {
	if !fdValid(ep) || files[ep].kind != fdEpoll {
		return -eBADF
	}
	if max <= 0 || !userOK(buf, uintptr(max)*12) {
		return -eINVAL
	}
	if n := epollScan(int32(ep), buf, max); n > 0 || timeoutMS == 0 {
		return int64(n)
	}
	w := sched.Wait{Kind: sched.WaitEpoll, Addr: buf, Obj: int32(ep), Max: int32(max)}
	if timeoutMS > 0 {
		w.Deadline = now + int64(timeoutMS)*1_000_000
	}
	sched.Block(tf, w, now)
	return noReturnVal
}

// wakePollers completes the epoll_wait of every thread whose instance now
// has events: the waker copies them out and sets the result, so a woken
// poller never finds nothing (Linux: ep_poll_callback + ep_poll).
func wakePollers() {
	for i := 1; i < sched.MaxThreads; i++ {
		t := &sched.Table[i]
		if t.State != sched.Blocked || t.Wait.Kind != sched.WaitEpoll {
			continue
		}
		if n := epollScan(t.Wait.Obj, t.Wait.Addr, int(t.Wait.Max)); n > 0 {
			sched.Wake(t, int64(n))
		}
	}
}

// irqfdCreate binds a new non-blocking eventfd to a legacy IRQ line and
// unmasks the line.
func irqfdCreate(line int) int64 {
	if line < 1 || line > 15 || line == 2 {
		return -eINVAL
	}
	fd := fdAlloc(fdEventfd, true)
	if fd < 0 {
		return fd
	}
	irqFD[line] = int32(fd)
	x86.UnmaskIRQ(uint8(line))
	return fd
}

// msifdCreate binds a new non-blocking eventfd to MSI vector slot idx.
func msifdCreate(idx int) int64 {
	if idx < 0 || idx >= x86.NumMSI || msiFD[idx] != 0 {
		return -eINVAL
	}
	fd := fdAlloc(fdEventfd, true)
	if fd >= 0 {
		msiFD[idx] = int32(fd)
	}
	return fd
}
