// Package selftest exercises the runtime-hosting contract inside the
// kernel: garbage collection under load, asynchronous preemption, nil
// dereferences turned into panics, timers, and several Ps on one CPU. The
// shell's `selftest` command and the `selftest` boot parameter run it.
package selftest

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Test is one self-test.
type Test struct {
	Name string
	Run  func() (string, error)
}

// All lists the tests in the order they run.
var All = []Test{
	{"gc", gcStress},
	{"preempt", asyncPreempt},
	{"nilderef", nilDeref},
	{"sleep", sleepBound},
	{"gomaxprocs", gomaxprocs4},
}

// Run runs the named tests (all when names is empty), printing one line
// per test and a closing `N passed, N failed` line. It reports whether all
// passed.
func Run(w io.Writer, names []string) bool {
	passed, failed := 0, 0
	for _, t := range All {
		if len(names) > 0 && !contains(names, t.Name) {
			continue
		}
		start := time.Now()
		detail, err := t.Run()
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Fprintf(w, "selftest %s: FAIL: %v (%v)\n", t.Name, err, took)
			continue
		}
		passed++
		fmt.Fprintf(w, "selftest %s: ok: %s (%v)\n", t.Name, detail, took)
	}
	fmt.Fprintf(w, "selftest: %d passed, %d failed\n", passed, failed)
	return failed == 0
}

// Names lists the test names.
func Names() string {
	var n []string
	for _, t := range All {
		n = append(n, t.Name)
	}
	return strings.Join(n, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var sink atomic.Pointer[[]byte]

// gcStress: 32 goroutines allocate 320 MiB in total with a small live set;
// the collector must run many cycles and the heap must stay bounded.
func gcStress() (string, error) {
	const workers, perWorker = 32, 10 << 20
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	var peak atomic.Uint64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			var keep [16][]byte
			for done, i := 0, seed; done < perWorker; i++ {
				n := 512 + (i*7919)%(64<<10)
				b := make([]byte, n)
				b[0], b[n-1] = byte(i), byte(i)
				keep[i%len(keep)] = b
				sink.Store(&b)
				done += n
			}
		}(w)
	}
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	wg.Wait()
	close(stop)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	total := (after.TotalAlloc - before.TotalAlloc) >> 20
	if cycles < 10 {
		return "", fmt.Errorf("only %d GC cycles for %d MiB", cycles, total)
	}
	if p := peak.Load() >> 20; p > 128 {
		return "", fmt.Errorf("heap in use peaked at %d MiB", p)
	}
	return fmt.Sprintf("%d MiB allocated by %d goroutines, %d GC cycles, heap in use peaked at %d MiB",
		total, workers, cycles, peak.Load()>>20), nil
}

// asyncPreempt: with one P, a goroutine spins in a loop with no calls;
// runtime.GC must still finish, which needs the spinner preempted by a
// signal (SIGURG delivered by the kernel).
func asyncPreempt() (string, error) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop, started atomic.Bool
	var spins uint64
	go func() {
		started.Store(true)
		for !stop.Load() {
			spins++
		}
	}()
	for !started.Load() {
		runtime.Gosched()
	}
	done := make(chan time.Duration, 1)
	go func() {
		t := time.Now()
		runtime.GC()
		done <- time.Since(t)
	}()
	select {
	case d := <-done:
		stop.Store(true)
		return fmt.Sprintf("runtime.GC finished in %v beside a call-free spinning goroutine", d.Round(time.Millisecond)), nil
	case <-time.After(10 * time.Second):
		stop.Store(true)
		return "", fmt.Errorf("runtime.GC blocked for 10s: no asynchronous preemption")
	}
}

// nilDeref: a nil pointer dereference faults, the kernel delivers SIGSEGV,
// and the runtime turns it into a panic we recover.
func nilDeref() (msg string, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(false))
	defer func() {
		r := recover()
		if r == nil {
			err = fmt.Errorf("no panic")
			return
		}
		re, ok := r.(runtime.Error)
		if !ok || !strings.Contains(re.Error(), "nil pointer dereference") {
			err = fmt.Errorf("unexpected panic: %v", r)
			return
		}
		msg = "recovered: " + re.Error()
	}()
	var p *struct{ x [64]int }
	return fmt.Sprint(p.x[3]), nil
}

// sleepBound: time.Sleep(50ms) must take at least 50 ms and not much more.
func sleepBound() (string, error) {
	const d = 50 * time.Millisecond
	t := time.Now()
	time.Sleep(d)
	got := time.Since(t)
	if got < d || got > 10*d {
		return "", fmt.Errorf("time.Sleep(%v) took %v", d, got)
	}
	return fmt.Sprintf("time.Sleep(%v) took %v", d, got.Round(100*time.Microsecond)), nil
}

// gomaxprocs4: four Ps on one CPU: goroutines on all of them hand a token
// around a ring of channels.
func gomaxprocs4() (string, error) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	const n, rounds = 8, 2000
	chans := make([]chan int, n)
	for i := range chans {
		chans[i] = make(chan int)
	}
	result := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				v := <-chans[i]
				next := chans[(i+1)%n]
				if i == n-1 && r == rounds-1 {
					next = result // the token's last hop
				}
				next <- v + 1
			}
		}(i)
	}
	chans[0] <- 0
	v := <-result
	wg.Wait()
	if v != n*rounds {
		return "", fmt.Errorf("token counted %d hops, want %d", v, n*rounds)
	}
	return fmt.Sprintf("GOMAXPROCS=%d: %d goroutines passed a token %d times", runtime.GOMAXPROCS(0), n, v), nil
}
