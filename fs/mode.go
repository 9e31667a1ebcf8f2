package fs

// Mode is an inode's type and permission bits with Linux's values (st_mode).
type Mode uint32

// File types (Linux: S_IFMT and friends).
const (
	ModeType Mode = 0o170000
	ModeSock Mode = 0o140000
	ModeLink Mode = 0o120000
	ModeReg  Mode = 0o100000
	ModeChr  Mode = 0o020000
	ModeDir  Mode = 0o040000
	ModeFIFO Mode = 0o010000
	ModePerm Mode = 0o7777
)

// Type is the file-type part of m.
func (m Mode) Type() Mode { return m & ModeType }

// IsDir reports a directory.
func (m Mode) IsDir() bool { return m.Type() == ModeDir }

// IsRegular reports a regular file.
func (m Mode) IsRegular() bool { return m.Type() == ModeReg }

// String renders m as ls -l does: "drwxr-xr-x", "crw-rw-rw-".
func (m Mode) String() string {
	b := []byte("?---------")
	switch m.Type() {
	case ModeDir:
		b[0] = 'd'
	case ModeReg:
		b[0] = '-'
	case ModeChr:
		b[0] = 'c'
	case ModeLink:
		b[0] = 'l'
	case ModeSock:
		b[0] = 's'
	case ModeFIFO:
		b[0] = 'p'
	}
	for i, c := range "rwxrwxrwx" {
		if m&(1<<(8-i)) != 0 {
			b[1+i] = byte(c)
		}
	}
	return string(b)
}

// DevT is a device number packed as Linux's kernel-internal dev_t:
// 12 bits of major above 20 bits of minor.
type DevT uint32

// Mkdev packs a device number (Linux: MKDEV).
func Mkdev(major, minor uint32) DevT { return DevT(major<<20 | minor&(1<<20-1)) }

// Major is the driver number (Linux: MAJOR).
func (d DevT) Major() uint32 { return uint32(d) >> 20 }

// Minor is the device number within the driver (Linux: MINOR).
func (d DevT) Minor() uint32 { return uint32(d) & (1<<20 - 1) }

// Open flags with Linux's values.
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_ACCMODE   = 0x3
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_DIRECTORY = 0x10000
)
