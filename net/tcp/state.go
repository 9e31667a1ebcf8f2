package tcp

// State is a TCP connection state, numbered as Linux numbers them so the
// /proc/net/tcp "st" column reads the same (include/net/tcp_states.h).
type State uint8

const (
	StateEstablished State = iota + 1
	StateSynSent
	StateSynRecv
	StateFinWait1
	StateFinWait2
	StateTimeWait
	StateClose
	StateCloseWait
	StateLastAck
	StateListen
	StateClosing
	StateNewSynRecv // a request sock in a listener's SYN queue
)

var stateNames = [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}

func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// synchronized reports whether the state is past the handshake (RFC 9293
// §3.10.7.4 groups these for RST/SYN handling).
func (s State) synchronized() bool {
	switch s {
	case StateClose, StateListen, StateSynSent, StateNewSynRecv:
		return false
	}
	return true
}

// canSendData reports whether new data may go out in this state.
func (s State) canSendData() bool {
	return s == StateEstablished || s == StateCloseWait
}

// canRecvData reports whether segment text is accepted (RFC 9293
// §3.10.7.4 seventh step).
func (s State) canRecvData() bool {
	return s == StateEstablished || s == StateFinWait1 || s == StateFinWait2
}
