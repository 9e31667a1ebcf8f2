package harness

import "net"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// QEMU's gdb stub: each test gets its own port so parallel QEMUs never
// answer another test's gdb.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
