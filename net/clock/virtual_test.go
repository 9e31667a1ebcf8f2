package clock

import (
	"reflect"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestVirtualFiresInDeadlineOrder(t *testing.T) {
	v := NewVirtual(epoch)
	var got []string
	v.AfterFunc(3*time.Second, func() { got = append(got, "c") })
	v.AfterFunc(1*time.Second, func() { got = append(got, "a") })
	v.AfterFunc(1*time.Second, func() { got = append(got, "a2") })
	v.AfterFunc(2*time.Second, func() {
		got = append(got, "b@"+v.Now().Sub(epoch).String())
		v.AfterFunc(500*time.Millisecond, func() { got = append(got, "b+") })
	})
	v.Advance(2500 * time.Millisecond)
	want := []string{"a", "a2", "b@2s", "b+"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if d := v.Now().Sub(epoch); d != 2500*time.Millisecond {
		t.Fatalf("now = %v after Advance, want 2.5s", d)
	}
	next, ok := v.NextDeadline()
	if !ok || next.Sub(epoch) != 3*time.Second {
		t.Fatalf("NextDeadline = %v,%v want 3s,true", next.Sub(epoch), ok)
	}
}

func TestVirtualStopReset(t *testing.T) {
	v := NewVirtual(epoch)
	n := 0
	tm := v.AfterFunc(time.Second, func() { n++ })
	if !tm.Stop() {
		t.Fatal("Stop of armed timer = false")
	}
	if tm.Stop() {
		t.Fatal("second Stop = true")
	}
	v.Advance(2 * time.Second)
	if n != 0 {
		t.Fatal("stopped timer fired")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of stopped timer reported active")
	}
	if !tm.Reset(3 * time.Second) {
		t.Fatal("Reset of armed timer reported inactive")
	}
	v.Advance(2 * time.Second)
	if n != 0 {
		t.Fatal("timer fired before its reset deadline")
	}
	v.Advance(time.Second)
	if n != 1 {
		t.Fatalf("fired %d times, want 1", n)
	}
	if _, ok := v.NextDeadline(); ok {
		t.Fatal("NextDeadline reports a timer after all fired")
	}
}

func TestRealClockFires(t *testing.T) {
	c := Real()
	done := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
}
