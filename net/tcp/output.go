package tcp

import (
	"encoding/binary"
	"net/netip"

	"gomenuos/net/checksum"
	"gomenuos/net/header"
	"gomenuos/sched/trace"
)

const (
	flagFin = header.TCPFlagFin
	flagSyn = header.TCPFlagSyn
	flagRst = header.TCPFlagRst
	flagPsh = header.TCPFlagPsh
	flagAck = header.TCPFlagAck
)

// emitLocked builds one segment without text and queues it for IP (the
// common tail of Linux's tcp_v4_send_reset and tcp_v4_send_ack).
func (p *Proto) emitLocked(src, dst netip.Addr, f *header.TCPFields) {
	b, _ := newSegment(f, 0)
	p.queueSegmentLocked(src, dst, f, b, 0, 0)
}

// newSegment allocates a segment buffer with MaxHeaderRoom of headroom,
// writes the header of f into it and returns it with the place for n
// octets of text.
func newSegment(f *header.TCPFields, n int) (b, text []byte) {
	optLen := 0
	if f.Options != nil {
		optLen = f.Options.Len()
	}
	b = make([]byte, MaxHeaderRoom+header.TCPMinimumSize+optLen+n)
	hl := header.EncodeTCP(b[MaxHeaderRoom:], f)
	return b, b[MaxHeaderRoom+hl:]
}

// newGSOSegmentLocked is newSegment for a segment the device will cut
// (more than one MSS of the send queue's text at seq): its buffer is lent
// by the device when it can (sent without a copy), and starts 0-7 bytes
// in so that the text lands 8-byte aligned like its source in the send
// queue and the copy runs at REP MOVSQ speed (net/buf.Copy).
func (s *Sock) newGSOSegmentLocked(f *header.TCPFields, seq seqnum, n int) (b, text []byte) {
	hl := header.TCPMinimumSize + f.Options.Len()
	src := s.sndq.addr(seq.sub(s.sndBufSeq))
	pad := int((src - uintptr(MaxHeaderRoom+hl)) & 7)
	b = s.proto.allocTx(s.raddr, pad+MaxHeaderRoom+hl+n)[pad:]
	header.EncodeTCP(b[MaxHeaderRoom:], f)
	return b, b[MaxHeaderRoom+hl:]
}

// queueSegmentLocked checksums the segment in b (n octets of text) and
// queues it for IP. With gsoMSS > 0 it is a segment of more than one MSS
// that the device will cut into gsoMSS-byte pieces: its checksum field
// holds only the folded pseudo-header sum (Linux: tcp_v4_send_check for
// CHECKSUM_PARTIAL).
func (p *Proto) queueSegmentLocked(src, dst netip.Addr, f *header.TCPFields, b []byte, n, gsoMSS int) {
	seg := b[MaxHeaderRoom:]
	if gsoMSS > 0 {
		ph := checksum.PseudoHeaderIPv4(src.As4(), dst.As4(), 6, uint16(len(seg)))
		binary.BigEndian.PutUint16(seg[16:], checksum.Fold(ph))
		p.MIB.OutSegs.Add(uint64((n + gsoMSS - 1) / gsoMSS))
	} else {
		header.SetTCPChecksum(seg, src.As4(), dst.As4())
		p.MIB.OutSegs.Add(1)
	}
	p.outq = append(p.outq, outSeg{src: src, dst: dst, buf: b, gsoMSS: gsoMSS})
	if f.Flags&flagRst != 0 {
		p.MIB.OutRsts.Add(1)
	}
}

// tcpTransmitSkbLocked sends one segment of this connection carrying the
// n octets of the send queue at seq: it fills in ACK, window and options
// from the socket (Linux: tcp_transmit_skb).
func (s *Sock) tcpTransmitSkbLocked(seq seqnum, flags uint8, n int) {
	var opts header.TCPOptions
	var wnd uint16
	if flags&flagSyn != 0 {
		s.synOptionsLocked(&opts)
		wnd = uint16(min(s.rcvWnd, 65535)) // RFC 7323 §2.2: SYN windows are never scaled
	} else {
		s.dataOptionsLocked(&opts, flags)
		wnd = s.tcpSelectWindowLocked()
	}
	f := header.TCPFields{SrcPort: s.lport, DstPort: s.rport, Seq: uint32(seq), Flags: flags, Window: wnd, Options: &opts}
	if flags&flagAck != 0 {
		f.Ack = uint32(s.rcvNxt)
		s.ackSentLocked()
	}
	s.proto.traceSend(s, s.laddr, s.raddr, &f, n, trace.SiteTransmitSkb)
	var b, text []byte
	gsoMSS := 0
	if n > s.sndMSS {
		gsoMSS = s.sndMSS
		b, text = s.newGSOSegmentLocked(&f, seq, n)
	} else {
		b, text = newSegment(&f, n)
	}
	if n > 0 {
		s.sndq.copyOut(text, seq.sub(s.sndBufSeq))
	}
	s.proto.queueSegmentLocked(s.laddr, s.raddr, &f, b, n, gsoMSS)
}

// synOptionsLocked fills the options of our SYN or SYN-ACK (Linux:
// tcp_syn_options).
func (s *Sock) synOptionsLocked(o *header.TCPOptions) {
	o.HasMSS, o.MSS = true, uint16(s.advMSS)
	cfg := &s.proto.cfg
	if s.state == StateSynSent {
		o.HasWS, o.WS = cfg.WindowScaling, s.rcvWS
		o.SACKPermitted = cfg.SACK
		o.HasTS = cfg.Timestamps
	} else {
		o.HasWS, o.WS = s.wsOK, s.rcvWS
		o.SACKPermitted = s.sackOK
		o.HasTS = s.tsOK
	}
	if o.HasTS {
		o.TSVal, o.TSEcr = s.tsValLocked(), s.tsRecent
	}
}

// dataOptionsLocked fills timestamps and SACK blocks (Linux:
// tcp_established_options).
func (s *Sock) dataOptionsLocked(o *header.TCPOptions, flags uint8) {
	if s.tsOK {
		o.HasTS, o.TSVal, o.TSEcr = true, s.tsValLocked(), s.tsRecent
	}
	if s.sackOK && flags&flagAck != 0 && (len(s.ooo) > 0 || s.dsackOn) {
		maxBlocks := 4
		if s.tsOK {
			maxBlocks = header.MaxSACKBlocks
		}
		first := 0
		if s.dsackOn {
			// RFC 2883 §4: the D-SACK block goes first.
			o.SACK[0] = header.SACKBlock{Start: uint32(s.dsack.start), End: uint32(s.dsack.end)}
			first = 1
		}
		o.NumSACK = first + s.sackBlocksLocked(o.SACK[first:maxBlocks])
	}
}

func (s *Sock) tsValLocked() uint32 { return s.proto.tcpTimeStamp() + s.tsOffset }

// tcpSelectWindowLocked returns the window field to announce and records
// the new right edge (Linux: tcp_select_window / __tcp_select_window).
func (s *Sock) tcpSelectWindowLocked() uint16 {
	free := max(s.rcvBufSize-s.rcvq.len(), 0)
	cur := max(s.rcvWup.add(int(s.rcvWnd)).sub(s.rcvNxt), 0)
	wnd := free
	switch {
	case wnd < cur:
		// RFC 9293 §3.8.6.2.2: do not shrink the window we offered.
		wnd = cur
	case wnd-cur < min(s.rcvBufSize/2, s.advMSS) && wnd < s.rcvBufSize:
		// RFC 1122 §4.2.3.3 (receiver SWS avoidance): open the window
		// only by a full segment or half the buffer.
		wnd = cur
	}
	wnd = min(wnd, 65535<<s.rcvWS)
	field := (wnd + (1 << s.rcvWS) - 1) >> s.rcvWS
	field = min(field, 65535)
	s.rcvWnd = uint32(field) << s.rcvWS
	s.rcvWup = s.rcvNxt
	return uint16(field)
}

// ackSentLocked notes that an ACK left: pending delayed ACKs are covered
// (Linux: tcp_event_ack_sent).
func (s *Sock) ackSentLocked() {
	s.dsackOn = false // reported once (RFC 2883 §4)
	s.segsSinceAck = 0
	s.ackNow = false
	s.delackT.stop()
}

// tcpSendAckLocked sends a bare ACK (Linux: tcp_send_ack).
func (s *Sock) tcpSendAckLocked() {
	s.tcpTransmitSkbLocked(s.tcpAcceptableSeqLocked(), flagAck, 0)
}

// tcpAcceptableSeqLocked is the sequence number for a bare ACK: the
// highest sequence sent, or the right edge of the peer's window if that
// lies past it, so the peer's acceptability test passes even when its
// window is zero (Linux: tcp_acceptable_seq). It is SND.MAX, not SND.NXT:
// after an RTO we rewind SND.NXT (Linux never does), and an ACK below the
// peer's RCV.NXT would be dropped unread, deadlocking two sides that both
// retransmit.
func (s *Sock) tcpAcceptableSeqLocked() seqnum {
	end := s.sndUna.add(int(s.sndWnd))
	if s.sndMax.leq(end) {
		return s.sndMax
	}
	return seqMax(end, s.sndNxt)
}

// tcpV4SendResetLocked answers seg with a RST (RFC 9293 §3.10.7.1;
// Linux: tcp_v4_send_reset). A RST is never answered.
func (p *Proto) tcpV4SendResetLocked(seg *segment) {
	if seg.flags&flagRst != 0 {
		return
	}
	f := header.TCPFields{SrcPort: seg.dstPort, DstPort: seg.srcPort, Flags: flagRst}
	if seg.flags&flagAck != 0 {
		f.Seq = uint32(seg.ack)
	} else {
		f.Flags |= flagAck
		f.Ack = uint32(seg.seq.add(seg.seqLen()))
	}
	p.traceSend(nil, seg.dst, seg.src, &f, 0, trace.SiteSendReset)
	p.emitLocked(seg.dst, seg.src, &f)
}

// sendResetLocked aborts our side of a connection with a RST (Linux:
// tcp_send_active_reset).
func (s *Sock) sendResetLocked() {
	s.tcpTransmitSkbLocked(s.tcpAcceptableSeqLocked(), flagRst|flagAck, 0)
}
