package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// Sockets from user space: MenuOS in C (user/menu) over socket system
// calls, and user/nettest's cases, whose expected lines were checked
// against the same binary on Linux 6.1 (qemu/linuxpeer).

// bootMenu boots with the C MenuOS as init and waits for its prompt.
func bootMenu(t *testing.T, extra ...string) *harness.Machine {
	t.Helper()
	cfg := harness.Config{BuildDir: harness.BuildDir(), Cmdline: "init=/bin/menu", ExtraArgs: extra}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		t.Fatal(err)
	}
	m := harness.StartT(t, cfg)
	if _, err := m.Expect(banner+prompt, bootTimeout); err != nil {
		t.Fatalf("no banner and prompt from /bin/menu: %v", err)
	}
	return m
}

// The C MenuOS answers help, a wrong command, replyhi and hello with the
// Go shell's exact lines (help lists its own six commands; each line but
// version's is the Go shell's line for that command).
func TestQEMUCMenuTranscript(t *testing.T) {
	goHelp := run(t, boot(t, harness.Config{}), "help")
	m := bootMenu(t)
	help := run(t, m, "help")
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(help, "help\r\n"), "\r\n"+prompt), "\r\n")
	var names []string
	for _, l := range lines {
		names = append(names, strings.SplitN(l, " - ", 2)[0])
		if !strings.HasPrefix(l, "version - ") && !strings.Contains(goHelp, "\r\n"+l+"\r\n") {
			t.Errorf("C help line %q is not the Go shell's", l)
		}
	}
	if got := strings.Join(names, " "); got != "help version quit time replyhi hello" {
		t.Errorf("C help lists %s", got)
	}
	expectOutput(t, m, "nosuchcmd", "This is a wrong cmd!\n")
	expectOutput(t, m, "replyhi", "Please input hello...\n")
	m.Send("hello\r")
	client := regexp.MustCompile(`send "hello" to 127\.0\.0\.1:5001\r\n(?:[^\n]*\n)*?recv "hi" from 127\.0\.0\.1:5001\r\n`)
	if _, _, err := m.ExpectRegexp(client, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	server := regexp.MustCompile(`recv "hello" from 127\.0\.0\.1:(\d+)\r\n(?:[^\n]*\n)*?send "hi" to 127\.0\.0\.1:(\d+)\r\n`)
	time.Sleep(200 * time.Millisecond) // the server child's lines may follow the prompt
	if sm := server.FindStringSubmatch(m.Output()); sm == nil || sm[1] != sm[2] {
		t.Fatalf("server child's lines missing or ports differ:\n%s", m.Output())
	}
	m.Send("\r")
	m.Expect(prompt, cmdTimeout)
	expectOutput(t, m, "replyhi", "Bind Error,Address already in use\n")
	m.Send("quit\r")
	if _, err := m.Expect("exited with status 0: powering off", cmdTimeout); err != nil {
		t.Fatal(err)
	}
}

// The host's nc reaches the C replyhi's server child through QEMU's port
// forward.
func TestQEMUCMenuHostNc(t *testing.T) {
	nc, err := exec.LookPath("nc")
	if err != nil {
		t.Fatal("nc not installed (.ci/run installs netcat-openbsd)")
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := bootMenu(t, harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:5001", port))...)
	expectOutput(t, m, "replyhi", "Please input hello...\n")
	cmd := exec.Command(nc, "-N", "-w", "10", "127.0.0.1", strconv.Itoa(port))
	cmd.Stdin = strings.NewReader("hello")
	out, err := cmd.Output()
	if err != nil || string(out) != "hi" {
		t.Fatalf("nc: %q, %v", out, err)
	}
	if _, _, err := m.ExpectRegexp(regexp.MustCompile(`recv "hello" from 10\.0\.2\.2:\d+\r\nsend "hi" to 10\.0\.2\.2:\d+\r\n`), cmdTimeout); err != nil {
		t.Fatal(err)
	}
}

// A client that resets before reading the reply: the server's first send
// gets ECONNRESET, the next EPIPE — which kills it with SIGPIPE, unless it
// ignores SIGPIPE. Non-blocking connect + poll; a listener whose accept
// queue is full; every socket call with bad arguments. The expected lines
// are what Linux 6.1 prints for the same binary, except that gomenuos has
// no IPv6 (socket(AF_INET6) is EAFNOSUPPORT).
func TestQEMUUserSocketSemantics(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "nettest reset", "server: recv 5 bytes\nserver: send: ECONNRESET\nserver killed by signal 13\n")
	expectOutput(t, m, "nettest reset ignore", "server: recv 5 bytes\nserver: send: ECONNRESET\nserver: send: EPIPE\nserver exited with 0\n")
	expectOutput(t, m, "nettest nonblock", "to a listener: poll 1 revents POLLOUT=1 SO_ERROR=0\n"+
		"to a closed port: poll 1 POLLOUT=1 POLLERR=1 POLLHUP=1 SO_ERROR=ECONNREFUSED\nrecv after the refusal: 0 \n")
	expectOutput(t, m, "nettest backlog", "connected while nobody accepts: 2 of 4\naccepted after waiting: 4 of 4\n")
	want := map[string]string{
		"socket(AF_INET6, SOCK_STREAM)": "EAFNOSUPPORT", "socket(AF_INET, 99)": "EINVAL",
		"socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)": "EPROTONOSUPPORT",
		"bind(bad fd)": "EBADF", "bind(/dev/null)": "ENOTSOCK", "bind(short address)": "EINVAL",
		"bind(kernel pointer)": "EFAULT", "bind(unmapped pointer)": "EFAULT", "listen(/dev/null)": "ENOTSOCK",
		"accept(not listening)": "EINVAL", "accept(/dev/null)": "ENOTSOCK", "connect(bad fd)": "EBADF",
		"connect(kernel pointer)": "EFAULT", "connect(closed port)": "ECONNREFUSED",
		"getpeername(unconnected)": "ENOTCONN", "getsockname(kernel pointer)": "EFAULT",
		"getsockname(unmapped length)": "EFAULT", "send(unconnected)": "EPIPE", "recv(/dev/null)": "ENOTSOCK",
		"setsockopt(unknown option)": "ENOPROTOOPT", "setsockopt(short value)": "EINVAL",
		"setsockopt(kernel pointer)": "EFAULT", "getsockopt(unknown option)": "ENOPROTOOPT",
		"getsockopt(kernel pointer)": "EFAULT", "shutdown(bad how)": "EINVAL", "shutdown(unconnected)": "ENOTCONN",
		"sendto(kernel buffer)": "EFAULT", "recvfrom(/dev/null)": "ENOTSOCK",
	}
	out := run(t, m, "nettest badargs")
	rows := strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, "nettest badargs\r\n"), "\r\n"+prompt), "\r\n")
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d:\n%s", len(rows), len(want), out)
	}
	for _, r := range rows {
		call, errno := strings.TrimSpace(r[:min(len(r), 44)]), strings.TrimSpace(r[min(len(r), 44):])
		if want[call] != errno {
			t.Errorf("%s: %s, want %s", call, errno, want[call])
		}
	}
	expectOutput(t, m, "/bin/hello alive", "hello, world\nargv[1] = alive\n")
}

// 1,000 loopback connections from user space leave memory where the
// first 1,000 left it once their TIME_WAITs have expired (tcp_timewait=1s;
// the first round grows the stack's tables to their working size), and a
// process
// that exits with sockets open releases them: /proc/net/tcp is back to
// its baseline.
func TestQEMUUserSocketsLeaveNothing(t *testing.T) {
	m := boot(t, harness.Config{Cmdline: "tcp_timewait=1s", Timeout: 10 * time.Minute})
	conns := func(n int) {
		m.Send(fmt.Sprintf("nettest conns %d\r", n))
		out, err := m.Expect(prompt, 5*time.Minute)
		if err != nil || !strings.Contains(out, fmt.Sprintf("conns: %d of %d round trips, server ok", n, n)) {
			t.Fatalf("conns %d: %q %v", n, out, err)
		}
		time.Sleep(2 * time.Second) // TIME_WAIT is 1 s here; not a timing check
	}
	sockets := func() string {
		return run(t, m, `sh -c "grep -c : /proc/net/tcp"`)
	}
	conns(1000)
	base, before := sockets(), kernelRAM(t, m)
	conns(1000)
	after := kernelRAM(t, m)
	t.Logf("RAM after 1,000 connections: %d KiB; after 1,000 more: %d KiB", before, after)
	if after > before+1024 {
		t.Errorf("RAM grew by %d KiB over 1,000 connections", after-before)
	}
	if got := sockets(); got != base {
		t.Errorf("sockets after 1,000 connections: %q, before %q", got, base)
	}
	if out := run(t, m, "nettest leak 10"); !strings.Contains(out, "leak: 10 sockets left open") {
		t.Fatalf("leak: %q", out)
	}
	time.Sleep(2 * time.Second)
	if got := sockets(); got != base {
		t.Errorf("sockets after a process exited with 13 open: %q, before %q", got, base)
	}
}

// Unmodified network programs from busybox-static against hosts outside
// the guest (QEMU user networking: the host is 10.0.2.2 from inside):
// wget fetching from a host HTTP server, httpd serving the host, nc as
// server and as client, telnet typing to a host service.
func TestQEMUBusyboxNetworkPrograms(t *testing.T) {
	body := "served by the host\n"
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	defer web.Close()
	webPort := web.Listener.Addr().(*net.TCPAddr).Port
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostLn.Close()
	hostPort := hostLn.Addr().(*net.TCPAddr).Port
	fwd, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := boot(t, harness.Config{ExtraArgs: harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:5001", fwd))})

	out := run(t, m, fmt.Sprintf("wget -q -O - http://10.0.2.2:%d/", webPort))
	if !strings.Contains(out, "\r\n"+strings.ReplaceAll(body, "\n", "\r\n")+prompt) {
		t.Errorf("wget: %q", out)
	}

	// busybox nc as a client: its stdin goes to the host.
	got := make(chan string, 1)
	go func() {
		c, err := hostLn.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	run(t, m, fmt.Sprintf(`sh -c "echo to the host | nc 10.0.2.2 %d"`, hostPort))
	if s := <-got; s != "to the host\n" {
		t.Errorf("nc client sent %q", s)
	}

	// busybox httpd serving the host through the forward.
	run(t, m, `sh -c "mkdir -p /www && echo from httpd > /www/index.html"`)
	expectOutput(t, m, "httpd -p 5001 -h /www", "")
	resp, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/index.html", fwd))
	if err != nil || resp != "from httpd\n" {
		t.Errorf("httpd: %q, %v", resp, err)
	}
	run(t, m, `sh -c "killall httpd"`)
	// killall only sends the signal (on Linux too): wait until httpd has
	// died and closed its listener before nc takes the port.
	listening := regexp.MustCompile(`:5001 +\S+ +LISTEN`)
	for i := 0; listening.MatchString(run(t, m, "netstat")); i++ {
		if i == 50 {
			t.Fatal("httpd still listens after killall")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// busybox nc -l as a server: what the host sends is printed.
	expectOutput(t, m, "nc -l -p 5001 &", "[1] started\n")
	for i := 0; ; i++ { // wait until it listens (QEMU accepts for it either way)
		if strings.Contains(run(t, m, "netstat"), ":5001 ") {
			break
		}
		if i == 50 {
			t.Fatal("nc -l never listened")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("from the host\n"))
	c.Close()
	if _, err := m.Expect("from the host\r\n", cmdTimeout); err != nil {
		t.Errorf("nc -l: %v", err)
	}

	// telnet: a line typed in the guest reaches a host service, whose
	// answer comes back, and the session ends when the host closes.
	go func() {
		c, err := hostLn.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Enter arrives as CR NUL or CR LF; telnet may negotiate options
		// first (IAC sequences): keep the printable bytes of the line.
		var line []byte
		r := bufio.NewReader(c)
		for {
			b, err := r.ReadByte()
			if err != nil || b == '\r' || b == '\n' {
				break
			}
			if b >= ' ' && b < 0x7f {
				line = append(line, b)
			}
		}
		fmt.Fprintf(c, "you said: %s\r\n", line)
	}()
	m.Send("\r")
	m.Expect(prompt, cmdTimeout)
	m.Send(fmt.Sprintf("telnet 10.0.2.2 %d\r", hostPort))
	if _, err := m.Expect("\r\n", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let telnet connect and switch the console to raw mode: not a timing check
	m.Send("typed in telnet\r")
	if _, err := m.Expect("you said: typed in telnet", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatalf("telnet did not end when the host closed: %v", err)
	}
}

func httpGet(url string) (string, error) {
	var last error
	for i := 0; i < 50; i++ { // httpd forks into the background: retry, bounded
		resp, err := http.Get(url)
		if err == nil {
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return "", last
}

// Host connections to a user server run its device bottom halves on the
// server's own task (sched/softirq.go): every connection is answered,
// and kstat counts bottom halves that user tasks ran.
func TestQEMUUserServerRunsBottomHalves(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := boot(t, harness.Config{ExtraArgs: harness.UserNet(fmt.Sprintf("tcp:127.0.0.1:%d-:5006", port))})
	m.Send("tcpbulk hi 5006 &\r")
	if _, err := m.Expect("tcpbulk hi: listening on 5006", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte("hello"))
		buf := make([]byte, 2)
		if err == nil {
			_, err = io.ReadFull(c, buf)
		}
		c.Close()
		if err != nil || string(buf) != "hi" {
			t.Fatalf("connection %d: %q, %v", i, buf, err)
		}
	}
	out := run(t, m, "kstat")
	sm := regexp.MustCompile(`softirqs: (\d+) interrupts handed to user tasks, (\d+) bottom halves run by them, (\d+) handed back to drivers`).FindStringSubmatch(out)
	if sm == nil {
		t.Fatalf("no softirqs line in kstat:\n%s", out)
	}
	if runs, _ := strconv.Atoi(sm[2]); runs == 0 {
		t.Fatalf("20 connections to a user server, and no bottom half ran on a user task:\n%s", sm[0])
	}
}
