package integration

import (
	"fmt"
	"net"
	"regexp"
	"testing"

	"gomenuos/qemu/harness"
)

// The guest on a tap in a namespace of its own, Linux's TCP on the other
// side: replyhi answers a Linux client, hello reaches a Linux server.
func TestQEMUE2ETapConnectBothWays(t *testing.T) {
	ns := newNetns(t)
	m := ns.start(t, tapArgs(ns))
	if out := run(t, m, "replyhi"); out != "replyhi\r\nPlease input hello...\r\n"+prompt {
		t.Fatalf("replyhi: %q", out)
	}
	replyhiExchange(t, ns.dialer(nsGuestIP+":5001"))
	server := regexp.MustCompile(`recv "hello" from 10\.0\.3\.1:(\d+)\r\n(?:[^\n]*\n)*?send "hi" to 10\.0\.3\.1:(\d+)\r\n`)
	if _, sm, err := m.ExpectRegexp(server, cmdTimeout); err != nil || sm[1] != sm[2] {
		t.Fatalf("server lines: %v %q", err, sm)
	}

	// guest → Linux: hello against a one-shot Linux server.
	l := ns.listen(t)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 5)
		if n, _ := c.Read(buf); string(buf[:n]) == "hello" {
			c.Write([]byte("hi"))
		}
	}()
	p := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	m.Send(fmt.Sprintf("hello %s %s\r", nsHostIP, p))
	want := fmt.Sprintf("hello %s %s\r\nsend \"hello\" to %s:%s\r\nrecv \"hi\" from %s:%s\r\n%s", nsHostIP, p, nsHostIP, p, nsHostIP, p, prompt)
	if _, err := m.Expect(want, cmdTimeout); err != nil {
		t.Fatalf("hello to Linux: %v", err)
	}
}

func tapArgs(ns netns) []string { return harness.TapNet(ns.Tap) }

// 10 MB Linux → guest over the tap, byte-exact.
func TestQEMUE2ETapHostToGuest10MB(t *testing.T) {
	ns := newNetns(t)
	m := ns.start(t, tapArgs(ns))
	mbs := hostToGuest(t, m, sinkPort, ns.dialer(fmt.Sprintf("%s:%d", nsGuestIP, sinkPort)), e2eBytes)
	t.Logf("Linux → guest over tap: %.1f MB/s", mbs)
}

// 10 MB guest → Linux over the tap, byte-exact.
func TestQEMUE2ETapGuestToHost10MB(t *testing.T) {
	ns := newNetns(t)
	m := ns.start(t, tapArgs(ns))
	mbs := guestToHost(t, m, ns.listen(t), nsHostIP, e2eBytes)
	t.Logf("guest → Linux over tap: %.1f MB/s", mbs)
}
