package tcp

import (
	"strings"
	"testing"
)

// Within a receive burst the every-second-segment ACK waits for the end of
// the burst: six in-order segments cost one ACK, for all of them. An
// out-of-order segment is still acknowledged at once (its duplicate ACK
// drives the sender's loss recovery).
func TestBurstAcknowledgedOnce(t *testing.T) {
	sc := newScript(t)
	s, iss := sc.established(nil)
	s.proto.lock()
	s.quickAcks = 0 // past the start of the connection
	s.proto.unlock()
	port := s.LocalAddr().Port()
	text := strings.Repeat("d", 100)
	sc.p.BeginBatch()
	for i := range 6 {
		sc.inject(seg{dport: port, seq: peerISS + 1 + uint32(i*100), ack: iss + 1, flags: flagAck, data: text})
	}
	sc.expectNone()
	sc.p.EndBatch()
	sc.expect(flags(flagAck), ackIs(peerISS+1+600))
	sc.expectNone()

	sc.p.BeginBatch()
	sc.inject(seg{dport: port, seq: peerISS + 1 + 700, ack: iss + 1, flags: flagAck, data: text})
	sc.expect(flags(flagAck), ackIs(peerISS+1+600)) // the gap: a duplicate ACK now
	sc.p.EndBatch()
}
