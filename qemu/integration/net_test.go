package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// MenuOS's TCP lab over the kernel's own stack on lo: replyhi starts the
// server in the background, hello talks to it, both sides print their
// lines, and a second replyhi fails to bind.
func TestQEMUReplyhiHello(t *testing.T) {
	m := boot(t, harness.Config{})
	if out := run(t, m, "replyhi"); out != "replyhi\r\nPlease input hello...\r\n"+prompt {
		t.Fatalf("replyhi: %q", out)
	}
	m.Send("hello\r")
	client := regexp.MustCompile(`send "hello" to 127\.0\.0\.1:5001\r\n(?:[^\n]*\n)*?recv "hi" from 127\.0\.0\.1:5001\r\n`)
	_, _, err := m.ExpectRegexp(client, cmdTimeout)
	if err != nil {
		t.Fatal(err)
	}
	server := regexp.MustCompile(`recv "hello" from 127\.0\.0\.1:(\d+)\r\n(?:[^\n]*\n)*?send "hi" to 127\.0\.0\.1:(\d+)\r\n`)
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	all := m.Output()
	sm := server.FindStringSubmatch(all)
	if sm == nil || sm[1] != sm[2] {
		t.Fatalf("server lines missing or ports differ:\n%s", all)
	}
	m.Send("\r")
	m.Expect(prompt, cmdTimeout)
	if out := run(t, m, "replyhi"); !regexp.MustCompile(`^replyhi\r\nBind Error,Address already in use\r\n`).MatchString(out) {
		t.Fatalf("second replyhi: %q", out)
	}
}

// 1,000 sequential connect/send/recv/close round trips on loopback.
func TestQEMULoopbackThousandRoundTrips(t *testing.T) {
	m := boot(t, harness.Config{})
	m.Send("netbench 1000\r")
	_, sm, err := m.ExpectRegexp(regexp.MustCompile(`netbench: 1000 round trips in \S+: (\d+)/s, (\d+) errors`), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if sm[2] != "0" {
		t.Fatalf("%s errors", sm[2])
	}
}

// No leak: with TIME_WAIT shortened to 1 s, a second batch of 1,000
// loopback round trips, run after the first batch's TIME_WAITs expired,
// leaves the heap where the first left it (each round trip's sockets,
// inodes and timers are all released).
func TestQEMULoopbackRoundTripsDoNotLeak(t *testing.T) {
	m := boot(t, harness.Config{Cmdline: "tcp_timewait=1s"})
	re := regexp.MustCompile(`netbench: 1000 round trips in \S+: \d+/s, (\d+) errors, heap in use (\d+) KiB -> (\d+) KiB`)
	var after [2]int
	for i := range after {
		if i > 0 {
			time.Sleep(3 * time.Second) // let the TIME_WAITs expire
		}
		m.Send("netbench 1000\r")
		_, sm, err := m.ExpectRegexp(re, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if sm[1] != "0" {
			t.Fatalf("%s errors", sm[1])
		}
		after[i], _ = strconv.Atoi(sm[3])
	}
	if after[1] > after[0]+1024 {
		t.Fatalf("heap after the second batch %d KiB, after the first %d KiB: sockets leak", after[1], after[0])
	}
}

// virtio-net interrupts arrive as MSI-X messages through the local APIC
// (preferred over the INTx line): after traffic on eth0, /proc/interrupts
// counts them on a PCI-MSI vector.
func TestQEMUVirtioNetUsesMSIX(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := boot(t, harness.Config{ExtraArgs: harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:5001", port))})
	if out := run(t, m, "ping 10.0.2.2 2"); !strings.Contains(out, "2 packets transmitted, 2 received") {
		t.Fatalf("ping over eth0: %q", out)
	}
	out := run(t, m, "cat /proc/interrupts")
	sm := regexp.MustCompile(`(?m)^ *(\d+): +(\d+) +PCI-MSI +virtio0\r$`).FindStringSubmatch(out)
	if sm == nil || sm[2] == "0" {
		t.Fatalf("no MSI interrupts counted:\n%s", out)
	}
}
