// Package qtest runs a real QEMU machine under its qtest accelerator and
// implements the hw interfaces on top of it, so host tests can drive a
// driver against QEMU's own device models: port I/O and MMIO go over the
// qtest protocol, guest RAM is a shared file mapped into this process (DMA
// memory the device really reads), and INTx lines are intercepted at the
// IOAPIC.
//
// It is a host-only test harness (it starts processes and maps files); the
// kernel never imports it.
package qtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Machine is one QEMU process under qtest.
//
// mu serialises commands: the protocol is one request, one reply. IRQ
// events arrive asynchronously and are routed by the reader goroutine.
type Machine struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	mu    sync.Mutex
	reply chan string
	ram   []byte
	path  string
	bios  string

	irqMu  sync.Mutex
	level  map[int]bool
	raised map[int]chan struct{}
	done   chan struct{}
	closed atomic.Bool // set first thing in Close
}

// Config describes the machine.
type Config struct {
	RAMBytes int      // guest RAM, shared with the test process
	Args     []string // device arguments, e.g. "-device", "virtio-net-pci,..."
	Wrapper  []string // command prefix, e.g. "ip", "netns", "exec", "ns1"
}

// Start launches QEMU: the pc machine, its CPU halted, no firmware.
func Start(c Config) (*Machine, error) {
	f, err := os.CreateTemp("/dev/shm", "gomenuos-qtest-*")
	if err != nil {
		return nil, err
	}
	m := &Machine{path: f.Name(), reply: make(chan string, 1), level: map[int]bool{},
		raised: map[int]chan struct{}{}, done: make(chan struct{})}
	if err := f.Truncate(int64(c.RAMBytes)); err != nil {
		f.Close()
		os.Remove(m.path)
		return nil, err
	}
	m.ram, err = syscall.Mmap(int(f.Fd()), 0, c.RAMBytes, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	f.Close()
	if err != nil {
		os.Remove(m.path)
		return nil, err
	}
	if err := m.launch(c); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Machine) launch(c Config) error {
	bios, err := haltingBIOS()
	if err != nil {
		return err
	}
	m.bios = bios
	args := []string{
		// The VM must run (virtio-net only moves packets while it does), but
		// no firmware may: the BIOS is 64 KiB of HLT, and with interrupts
		// off at reset the CPU halts for good at the reset vector.
		"-machine", "pc,accel=tcg,memory-backend=ram", "-bios", bios,
		"-object", fmt.Sprintf("memory-backend-file,id=ram,size=%d,mem-path=%s,share=on", c.RAMBytes, m.path),
		"-m", fmt.Sprintf("%dM", c.RAMBytes>>20),
		"-nodefaults", "-display", "none", "-qtest", "stdio", "-qtest-log", "/dev/null",
	}
	argv := append(append(append([]string(nil), c.Wrapper...), "qemu-system-x86_64"), append(args, c.Args...)...)
	m.cmd = exec.Command(argv[0], argv[1:]...)
	m.cmd.Stderr = os.Stderr
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := m.cmd.Start(); err != nil {
		return err
	}
	go m.read(out)
	if _, err = m.do("irq_intercept_in ioapic"); err != nil {
		return err
	}
	// QEMU has the RAM file and the BIOS open now: unlinking them means a
	// test that dies without Close leaks no files.
	os.Remove(m.path)
	os.Remove(m.bios)
	return nil
}

// read routes qtest output: "IRQ raise N"/"IRQ lower N" events to the
// interrupt state, everything else to the pending command.
func (m *Machine) read(r io.Reader) {
	defer close(m.done)
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if rest, ok := strings.CutPrefix(line, "IRQ "); ok {
			m.irqEvent(rest)
			continue
		}
		m.reply <- line
	}
}

// do sends one command and returns its reply's value ("OK 0x12" → "0x12").
func (m *Machine) do(cmd string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := io.WriteString(m.in, cmd+"\n"); err != nil {
		return "", err
	}
	select {
	case line := <-m.reply:
		rest, ok := strings.CutPrefix(line, "OK")
		if !ok {
			return "", fmt.Errorf("qtest: %q: %s", cmd, line)
		}
		return strings.TrimSpace(rest), nil
	case <-m.done:
		return "", fmt.Errorf("qtest: QEMU exited during %q", cmd)
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("qtest: no reply to %q", cmd)
	}
}

// must runs a command whose failure means the harness is broken. Once the
// machine is gone, reads return all-ones, as from a removed PCI device.
func (m *Machine) must(cmd string) uint64 {
	v, err := m.do(cmd)
	if err != nil {
		if m.closed.Load() {
			return ^uint64(0)
		}
		select {
		case <-m.done:
			return ^uint64(0)
		default:
		}
		panic(err)
	}
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		panic(fmt.Sprintf("qtest: %q replied %q", cmd, v))
	}
	return n
}

// Close stops QEMU and releases guest RAM.
func (m *Machine) Close() {
	m.closed.Store(true)
	if m.cmd != nil && m.cmd.Process != nil {
		m.in.Close()
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
	if m.ram != nil {
		releaseRAM(m.ram)
	}
	os.Remove(m.path)
	if m.bios != "" {
		os.Remove(m.bios)
	}
	m.irqMu.Lock()
	for _, ch := range m.raised {
		close(ch)
	}
	m.raised = map[int]chan struct{}{}
	m.irqMu.Unlock()
}

// haltingBIOS writes a 64 KiB firmware image of HLT instructions.
func haltingBIOS() (string, error) {
	f, err := os.CreateTemp("", "gomenuos-hlt-bios-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	hlt := make([]byte, 64<<10)
	for i := range hlt {
		hlt[i] = 0xF4
	}
	if _, err := f.Write(hlt); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// releaseRAM drops the shared guest RAM but keeps the address range mapped
// (to fresh anonymous memory): a driver goroutine that outlives the machine
// may still touch its rings, and must not fault.
func releaseRAM(ram []byte) {
	addr := uintptr(unsafe.Pointer(&ram[0]))
	syscall.Syscall6(syscall.SYS_MMAP, addr, uintptr(len(ram)), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_FIXED, ^uintptr(0), 0)
}
