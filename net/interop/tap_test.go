package interop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"gomenuos/net/header"
	"gomenuos/net/link"
)

// tapDev is a link.Device over a Linux TAP file descriptor: what the host
// kernel transmits on the tap we read, and what we Transmit the host
// kernel receives. A capture records every frame in both directions.
type tapDev struct {
	name string
	mac  header.MAC
	file *os.File
	cap  *capture
	done chan struct{}

	// Optional seeded loss in both directions, since the host kernel may
	// lack sch_netem. Guarded by mu.
	mu      sync.Mutex
	loss    float64
	rng     *rand.Rand
	dropped int
}

// setLoss makes the tap drop each frame, either way, with probability p.
func (d *tapDev) setLoss(p float64, seed int64) {
	d.mu.Lock()
	d.loss, d.rng = p, rand.New(rand.NewSource(seed))
	d.mu.Unlock()
}

// lose decides whether to drop one frame.
func (d *tapDev) lose() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loss == 0 || d.rng.Float64() >= d.loss {
		return false
	}
	d.dropped++
	return true
}

func (d *tapDev) droppedFrames() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

// openTap creates the TAP interface name in the calling thread's network
// namespace (Linux: TUNSETIFF with IFF_TAP|IFF_NO_PI).
func openTap(name string, mac header.MAC, c *capture) (*tapDev, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var ifr struct {
		name  [unix.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(ifr.name[:], name)
	ifr.flags = unix.IFF_TAP | unix.IFF_NO_PI
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		unix.Close(fd)
		return nil, e
	}
	// Non-blocking so the Go poller serves reads and Close interrupts them.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &tapDev{name: name, mac: mac, file: os.NewFile(uintptr(fd), name), cap: c, done: make(chan struct{})}, nil
}

func (d *tapDev) Name() string             { return d.name }
func (d *tapDev) MTU() int                 { return 1500 }
func (d *tapDev) HardwareAddr() header.MAC { return d.mac }
func (d *tapDev) Features() link.Features  { return 0 }
func (d *tapDev) Transmit(frame []byte) error {
	d.cap.record(true, frame)
	if d.lose() {
		return nil
	}
	_, err := d.file.Write(frame)
	return err
}

// Attach starts the receive goroutine: the "NIC bottom half".
func (d *tapDev) Attach(r link.Receiver) {
	go func() {
		defer close(d.done)
		for {
			buf := make([]byte, 65536)
			n, err := d.file.Read(buf)
			if err != nil {
				return
			}
			d.cap.record(false, buf[:n])
			if !d.lose() {
				r.DeliverFrame(d, buf[:n])
			}
		}
	}()
}

// Close stops the receive goroutine and removes the tap.
func (d *tapDev) Close() {
	d.file.Close()
	select {
	case <-d.done:
	case <-time.After(2 * time.Second):
	}
}

// capturedFrame is one frame that crossed the tap.
type capturedFrame struct {
	out   bool // sent by our stack
	at    time.Time
	frame []byte
}

// capture records frames crossing the tap for assertions (decoded with
// gopacket in the tests).
type capture struct {
	mu     sync.Mutex
	frames []capturedFrame
}

func (c *capture) record(out bool, f []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, capturedFrame{out, time.Now(), append([]byte(nil), f...)})
}

func (c *capture) all() []capturedFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]capturedFrame(nil), c.frames...)
}

var errNotRoot = errors.New("interop tests need root (CAP_NET_ADMIN) to create a network namespace and a TAP device")

// writePcap saves the capture in classic pcap format (open it with
// tcpdump -r or wireshark), for a failing test to leave evidence behind.
func (c *capture) writePcap(path string) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65536) // snaplen
	le.PutUint32(hdr[20:], 1)     // LINKTYPE_ETHERNET
	b.Write(hdr)
	for _, fr := range c.all() {
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(fr.at.Unix()))
		le.PutUint32(rec[4:], uint32(fr.at.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(fr.frame)))
		le.PutUint32(rec[12:], uint32(len(fr.frame)))
		b.Write(rec)
		b.Write(fr.frame)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func TestCapturePcapFormat(t *testing.T) {
	c := &capture{}
	c.record(true, []byte{1, 2, 3})
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := c.writePcap(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 24+16+3 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[24+8:]) != 3 || !bytes.Equal(b[40:], []byte{1, 2, 3}) {
		t.Fatalf("pcap bytes % x", b)
	}
}
