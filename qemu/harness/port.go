package harness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Port numbers handed to QEMU (gdb stubs, host forwards) must not collide
// when tests boot guests in parallel, within one `go test` process and
// across the packages it runs at once (and other worktrees' tests on the
// same machine). A port that was free when asked can still be taken
// before QEMU binds it, so FreePort:
//   - picks below the kernel's ephemeral range (ip_local_port_range), where
//     no connect() or bind to port 0 lands meanwhile;
//   - checks it is free by binding it;
//   - reserves it with an flock on a file named after it in the system's
//     temporary directory, held until the process exits: every harness
//     user skips a port another one holds.
// The well-known ports of `make run` (5001) and `make debug` (1234) are
// below the range FreePort uses.

// portLo is the lowest port FreePort hands out.
const portLo = 20000

var reserved struct {
	mu    sync.Mutex
	files map[int]*os.File // the lock files this process holds
}

// FreePort returns a TCP port on 127.0.0.1 that is free and reserved for
// this process, for QEMU's gdb stub or a host forward: each test gets its
// own port so parallel QEMUs never answer another test's gdb or take each
// other's forwards.
func FreePort() (int, error) {
	hi := ephemeralLo()
	for range 1000 {
		p := portLo + rand.IntN(hi-portLo)
		ok, err := reserve(p)
		if err != nil {
			return 0, err
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("harness: no free port in [%d, %d)", portLo, hi)
}

// reserve takes port p for this process if no one listens on it and no
// other harness holds it.
func reserve(p int) (bool, error) {
	reserved.mu.Lock()
	defer reserved.mu.Unlock()
	if reserved.files[p] != nil {
		return false, nil
	}
	dir := filepath.Join(os.TempDir(), "gomenuos-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil // another process holds it
		}
		return false, err
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		f.Close() // taken by someone outside the harness
		return false, nil
	}
	l.Close()
	if reserved.files == nil {
		reserved.files = map[int]*os.File{}
	}
	reserved.files[p] = f
	return true, nil
}

// ephemeralLo is the bottom of the kernel's ephemeral port range (32768 on
// Linux by default).
func ephemeralLo() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil || lo <= portLo+1000 {
		return 32768
	}
	return lo
}
