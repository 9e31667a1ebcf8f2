package stack

import (
	"net/netip"
	"testing"

	"gomenuos/net/clock"
	"gomenuos/net/link"
)

// flushDev is a pipe end that counts FlushTx calls.
type flushDev struct {
	*link.PipeEnd
	flushes int
}

func (d *flushDev) FlushTx() { d.flushes++ }

// A task leaving the network code (DoSoftirq) lets every device that holds
// back transmit notifications send them.
func TestDoSoftirqFlushesDevices(t *testing.T) {
	vc := clock.NewVirtual(epoch)
	pipe := link.NewPipe(link.PipeConfig{Clock: vc, Seed: 1, MACA: macA, MACB: macB})
	s := New(Options{Clock: vc})
	s.DoSoftirq() // no device yet
	a, b := &flushDev{PipeEnd: pipe.A}, &flushDev{PipeEnd: pipe.B}
	if _, err := s.AddInterface(a, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddInterface(b, netip.MustParsePrefix("10.0.1.1/24")); err != nil {
		t.Fatal(err)
	}
	s.DoSoftirq()
	s.DoSoftirq()
	if a.flushes != 2 || b.flushes != 2 {
		t.Fatalf("FlushTx ran %d and %d times on the two devices for two DoSoftirq calls, want 2 each", a.flushes, b.flushes)
	}
}
