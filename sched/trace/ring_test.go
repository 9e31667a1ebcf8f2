package trace

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gomenuos/arch/x86"
)

func drain(t *testing.T) {
	t.Helper()
	Discard()
	if Pending() != 0 {
		t.Fatalf("%d events pending after a drain", Pending())
	}
}

func emit(k Kind, v uint64) bool {
	e := Reserve(k, 0)
	if e == nil {
		return false
	}
	e.Payload[0] = v
	e.Commit()
	return true
}

// A full ring drops new events and counts each; nothing already in it is
// overwritten, and reading frees room again.
func TestRingDropsWhenFullAndCounts(t *testing.T) {
	drain(t)
	dropped := Stats.Dropped.Load()
	for i := 0; i < RingSize+10; i++ {
		ok := emit(KindProbeEntry, uint64(i))
		if ok != (i < RingSize) {
			t.Fatalf("event %d: kept %v", i, ok)
		}
	}
	if got := Stats.Dropped.Load() - dropped; got != 10 {
		t.Errorf("dropped %d, want 10", got)
	}
	buf := make([]Event, RingSize)
	if n := Read(buf); n != RingSize {
		t.Fatalf("read %d, want %d", n, RingSize)
	}
	for i := range buf {
		if buf[i].Payload[0] != uint64(i) || buf[i].Kind != KindProbeEntry {
			t.Fatalf("event %d holds %d (kind %d)", i, buf[i].Payload[0], buf[i].Kind)
		}
	}
	if !emit(KindProbeReturn, 7) {
		t.Fatal("no room after the ring was read")
	}
	drain(t)
}

// The reader stops at an event still being written (its writer was
// interrupted) and gets it, and those after it, once it is committed.
func TestReaderWaitsForUncommitted(t *testing.T) {
	drain(t)
	emit(KindProbeEntry, 1)
	slow := Reserve(KindProbeEntry, 0)
	slow.Payload[0] = 2
	emit(KindProbeEntry, 3) // an interrupt's event, written in between
	buf := make([]Event, 8)
	if n := Read(buf); n != 1 || buf[0].Payload[0] != 1 {
		t.Fatalf("read %d events (first %d), want only the committed one before the open slot", n, buf[0].Payload[0])
	}
	slow.Commit()
	if n := Read(buf); n != 2 || buf[0].Payload[0] != 2 || buf[1].Payload[0] != 3 {
		t.Fatalf("after the commit read %d events: %d %d", n, buf[0].Payload[0], buf[1].Payload[0])
	}
}

// Concurrent writers lose nothing that fits: written + dropped is every
// attempt, and each writer's events come out in its own order.
func TestConcurrentWriters(t *testing.T) {
	drain(t)
	const writers, each = 4, 3000
	w0, d0 := Stats.Written.Load(), Stats.Dropped.Load()
	var wg sync.WaitGroup
	var got []Event
	done, finished := make(chan struct{}), make(chan struct{})
	go func() { // the reader runs alongside
		defer close(finished)
		buf := make([]Event, 256)
		for {
			n := Read(buf)
			got = append(got, buf[:n]...)
			select {
			case <-done:
				if n == 0 && Pending() == 0 {
					return
				}
			default:
				runtime.Gosched()
			}
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				emit(KindProbeEntry, uint64(w)<<32|uint64(i))
			}
		}(w)
	}
	wg.Wait()
	close(done)
	<-finished
	written, dropped := Stats.Written.Load()-w0, Stats.Dropped.Load()-d0
	if written+dropped != writers*each || uint64(len(got)) != written {
		t.Errorf("written %d + dropped %d != %d attempts, or read %d", written, dropped, writers*each, len(got))
	}
	last := map[uint64]int64{}
	for _, e := range got {
		w, i := e.Payload[0]>>32, int64(e.Payload[0]&0xffffffff)
		if prev, ok := last[w]; ok && i <= prev {
			t.Fatalf("writer %d: event %d after %d", w, i, prev)
		}
		last[w] = i
	}
}

// The g offsets must match the runtime: the running goroutine's id (from
// its traceback header) and start function.
func TestGOffsets(t *testing.T) {
	gotG = make(chan [3]string)
	go startedHere()
	r := <-gotG
	if r[0] != r[1] {
		t.Errorf("goid from g+%d is %s, the runtime says %s", gGoidOffset, r[1], r[0])
	}
	if !strings.HasSuffix(r[2], ".startedHere") {
		t.Errorf("start function from g+%d is %q, want startedHere", gStartPCOffset, r[2])
	}
}

var gotG chan [3]string

func startedHere() {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id := strings.Fields(string(buf))[1] // "goroutine 42 [running]:"
	goid, start := goInfo(CurG())
	name := ""
	if f := runtime.FuncForPC(uintptr(start)); f != nil {
		name = f.Name()
	}
	gotG <- [3]string{id, strconv.FormatUint(goid, 10), name}
}

// A goroutine's name is the one it had when an event happened.
func TestSetComm(t *testing.T) {
	done := make(chan [4]uint64)
	go func() {
		t0 := x86.Rdtsc()
		SetComm("replyhi")
		t1 := x86.Rdtsc()
		SetComm("a-very-long-command-name")
		done <- [4]uint64{CurGoID(), t0, t1, x86.Rdtsc()}
	}()
	r := <-done
	id := r[0]
	if _, _, ok := Comm(id, r[1]); ok {
		t.Error("a name before the goroutine was named")
	}
	if name, shown, ok := Comm(id, r[2]); !ok || name != "replyhi" || shown != id {
		t.Errorf("Comm at t1 = %q %d %v, want replyhi and the goroutine id %d", name, shown, ok, id)
	}
	if name, _, ok := Comm(id, r[3]); !ok || name != "a-very-long-com" {
		t.Errorf("Comm at t2 = %q %v, want the first 15 bytes of the second name", name, ok)
	}
	if _, _, ok := Comm(id+1000000, r[3]); ok {
		t.Error("a goroutine never named has a name")
	}
	done2 := make(chan uint64)
	go func() {
		SetTask("hello", 4242) // a process's thread id
		done2 <- CurGoID()
	}()
	g := <-done2
	if name, shown, ok := Comm(g, x86.Rdtsc()); !ok || name != "hello" || shown != 4242 {
		t.Errorf("SetTask: Comm = %q %d %v, want hello 4242", name, shown, ok)
	}
}

// A disabled tracepoint writes nothing; an enabled one writes its event.
func TestTracepointEnable(t *testing.T) {
	drain(t)
	SchedWakeup(5, 0)
	if Pending() != 0 {
		t.Fatal("a disabled tracepoint wrote an event")
	}
	Enable(KindSchedWakeup, true)
	defer Enable(KindSchedWakeup, false)
	SchedWakeup(5, 0)
	buf := make([]Event, 2)
	if n := Read(buf); n != 1 || buf[0].Kind != KindSchedWakeup || buf[0].SchedWakeup().TID != 5 {
		t.Fatalf("read %d events: %+v", n, buf[0])
	}
}

// ReadBefore stops at the mark: events written after it wait.
func TestReadBeforeMark(t *testing.T) {
	drain(t)
	emit(KindProbeEntry, 1)
	emit(KindProbeEntry, 2)
	mark := Mark()
	emit(KindProbeEntry, 3)
	buf := make([]Event, 8)
	if n := ReadBefore(buf, mark); n != 2 || buf[1].Payload[0] != 2 {
		t.Fatalf("read %d before the mark", n)
	}
	if n := Read(buf); n != 1 || buf[0].Payload[0] != 3 {
		t.Fatalf("then read %d", n)
	}
}
