package stack

// Linux errno values the stack's errors map to.
const (
	errnoEINTR         = 4
	errnoEINVAL        = 22
	errnoEMSGSIZE      = 90
	errnoEADDRNOTAVAIL = 99
	errnoENETUNREACH   = 101
	errnoENOBUFS       = 105
	errnoETIMEDOUT     = 110
	errnoEHOSTUNREACH  = 113
	errnoEEXIST        = 17
)

// Error is a stack error carrying the Linux errno the socket layer returns.
type Error struct {
	msg   string
	errno uintptr
}

func (e *Error) Error() string { return e.msg }

// Errno returns the Linux errno number for e.
func (e *Error) Errno() uintptr { return e.errno }

// Errors returned by the IP layer.
var (
	// ErrNoRoute: no route to the destination (Linux: ENETUNREACH).
	ErrNoRoute = &Error{"stack: network unreachable", errnoENETUNREACH}
	// ErrHostUnreachable: neighbour resolution failed or an ICMP host
	// unreachable arrived (EHOSTUNREACH).
	ErrHostUnreachable = &Error{"stack: host unreachable", errnoEHOSTUNREACH}
	// ErrMessageTooLong: the datagram exceeds the path MTU with DF set (EMSGSIZE).
	ErrMessageTooLong = &Error{"stack: message too long", errnoEMSGSIZE}
	// ErrNoBufferSpace: a queue on the way was full (ENOBUFS).
	ErrNoBufferSpace = &Error{"stack: no buffer space available", errnoENOBUFS}
	// ErrInvalidSource: the source address is not local (EADDRNOTAVAIL).
	ErrInvalidSource = &Error{"stack: source address not local", errnoEADDRNOTAVAIL}
	// ErrInvalid: malformed arguments, e.g. too little headroom (EINVAL).
	ErrInvalid = &Error{"stack: invalid argument", errnoEINVAL}
	// ErrTimeout: a ping got no reply in time (ETIMEDOUT).
	ErrTimeout = &Error{"stack: timed out", errnoETIMEDOUT}
	// ErrInterrupted: a wait was cancelled (EINTR).
	ErrInterrupted = &Error{"stack: interrupted", errnoEINTR}
	// ErrExists: the interface or address is already configured (EEXIST).
	ErrExists = &Error{"stack: already exists", errnoEEXIST}
)
