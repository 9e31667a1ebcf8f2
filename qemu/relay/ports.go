package relay

import (
	"fmt"
	"net"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDPPort is QEMU's datagram socket backend seen from the relay: each
// datagram is one Ethernet frame; frames go to Peer, QEMU's local
// address.
type UDPPort struct {
	Conn *net.UDPConn
	Peer *net.UDPAddr
}

// ReadFrame reads the next datagram from Peer.
func (p *UDPPort) ReadFrame(b []byte) (int, error) {
	for {
		n, from, err := p.Conn.ReadFromUDP(b)
		if err != nil {
			return 0, err
		}
		if from.IP.Equal(p.Peer.IP) && from.Port == p.Peer.Port {
			return n, nil
		}
	}
}

// WriteFrame sends b to Peer as one datagram.
func (p *UDPPort) WriteFrame(b []byte) error {
	_, err := p.Conn.WriteToUDP(b, p.Peer)
	return err
}

// Close closes the socket.
func (p *UDPPort) Close() error { return p.Conn.Close() }

// TapPort is an attached tap device without packet information headers:
// each read or write is one Ethernet frame.
type TapPort struct{ f *os.File }

// OpenTap attaches to (or creates) the tap device name in the calling
// thread's network namespace.
func OpenTap(name string) (*TapPort, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(ifr))); e != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, e)
	}
	// Non-blocking, so the runtime poller serves reads and Close wakes them.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &TapPort{f: os.NewFile(uintptr(fd), "tap:"+name)}, nil
}

// ReadFrame reads one frame.
func (p *TapPort) ReadFrame(b []byte) (int, error) { return p.f.Read(b) }

// WriteFrame writes one frame.
func (p *TapPort) WriteFrame(b []byte) error {
	_, err := p.f.Write(b)
	return err
}

// Close detaches from the tap.
func (p *TapPort) Close() error { return p.f.Close() }
