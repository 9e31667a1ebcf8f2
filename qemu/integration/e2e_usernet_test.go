package integration

import (
	"fmt"
	"net"
	"regexp"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// Guest ports the user-net tests forward from the host.
const (
	sinkPort = 6000
)

// userNetGuest boots the guest on QEMU user networking with the host's
// free ports hiPort → guest 5001 (replyhi) and sinkHost → guest 6000.
func userNetGuest(t testing.TB) (m *harness.Machine, hiPort, sinkHost int) {
	t.Helper()
	hiPort, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sinkHost, err = harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := harness.Config{BuildDir: harness.BuildDir(), Timeout: 10 * time.Minute, ExtraArgs: harness.UserNet(
		fmt.Sprintf("tcp:127.0.0.1:%d-:5001", hiPort), fmt.Sprintf("tcp:127.0.0.1:%d-:%d", sinkHost, sinkPort))}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		t.Fatal(err)
	}
	m = harness.StartT(t, cfg)
	if _, err := m.Expect(prompt, bootTimeout); err != nil {
		t.Fatalf("no prompt: %v", err)
	}
	return m, hiPort, sinkHost
}

func dialer(addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.DialTimeout("tcp", addr, cmdTimeout) }
}

// `printf hello | nc 127.0.0.1 PORT` after replyhi prints hi, and the
// guest's server logs the exchange from slirp's address 10.0.2.2.
func TestQEMUE2EUserNetReplyhi(t *testing.T) {
	m, hiPort, _ := userNetGuest(t)
	if out := run(t, m, "replyhi"); out != "replyhi\r\nPlease input hello...\r\n"+prompt {
		t.Fatalf("replyhi: %q", out)
	}
	replyhiExchange(t, dialer(fmt.Sprintf("127.0.0.1:%d", hiPort)))
	server := regexp.MustCompile(`recv "hello" from 10\.0\.2\.2:(\d+)\r\n(?:[^\n]*\n)*?send "hi" to 10\.0\.2\.2:(\d+)\r\n`)
	_, sm, err := m.ExpectRegexp(server, cmdTimeout)
	if err != nil || sm[1] != sm[2] {
		t.Fatalf("server lines: %v %q", err, sm)
	}
}

// 10 MB host → guest through slirp's port forward, byte-exact.
func TestQEMUE2EUserNetHostToGuest10MB(t *testing.T) {
	m, _, sinkHost := userNetGuest(t)
	mbs := hostToGuest(t, m, sinkPort, dialer(fmt.Sprintf("127.0.0.1:%d", sinkHost)), e2eBytes)
	t.Logf("host → guest over user networking: %.1f MB/s", mbs)
}

// 10 MB guest → host: the guest dials 10.0.2.2:PORT, which slirp maps to
// the host's 127.0.0.1:PORT.
func TestQEMUE2EUserNetGuestToHost10MB(t *testing.T) {
	m, _, _ := userNetGuest(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mbs := guestToHost(t, m, l, "10.0.2.2", e2eBytes)
	t.Logf("guest → host over user networking: %.1f MB/s", mbs)
}
