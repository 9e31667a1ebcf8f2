package tcp

import "time"

// msstab are the MSS values a cookie can encode (Linux: msstab in
// syncookies.c, chosen from common path MTUs).
var msstab = [...]int{536, 1300, 1440, 1460}

// cookieHash keys the two hashes of a cookie (Linux: cookie_hash with
// syncookie_secret[0] and [1]); cookieNoTick selects the first.
func (p *Proto) cookieHash(t fourTuple, tick uint32) uint32 {
	return uint32(keyedHash(&p.keys.cookie, t, tick))
}

// cookieNoTick marks the hash without the time (ticks stay below 2^26).
const cookieNoTick = 1 << 31

// cookieMaxAge is how many 64-second ticks a cookie stays valid (Linux:
// MAX_SYNCOOKIE_AGE).
const cookieMaxAge = 2

// cookieTick is the coarse clock in a cookie (Linux: tcp_cookie_time).
func (p *Proto) cookieTick() uint32 {
	return uint32(p.now().Sub(p.start) / (64 * time.Second))
}

// cookieV4InitSequence returns a SYN cookie ISN: hash(tuple) + peer's ISN
// + tick<<24 + ((hash(tuple, tick) + mss index) mod 2^24), so the ACK
// proves the handshake without state (Linux: cookie_v4_init_sequence /
// secure_tcp_syn_cookie).
func (p *Proto) cookieV4InitSequence(t fourTuple, irs seqnum, mss int) seqnum {
	idx := 0
	for i, m := range msstab {
		if mss >= m {
			idx = i
		}
	}
	tick := p.cookieTick()
	return p.cookieFor(t, irs, tick, idx)
}

func (p *Proto) cookieFor(t fourTuple, irs seqnum, tick uint32, idx int) seqnum {
	low := (p.cookieHash(t, tick) + uint32(idx)) & 0xffffff
	return seqnum(p.cookieHash(t, cookieNoTick)) + irs + seqnum(tick<<24) + seqnum(low)
}

// cookieCheck returns the MSS index encoded in a cookie, or -1 (Linux:
// check_tcp_syn_cookie).
func (p *Proto) cookieCheck(t fourTuple, irs, cookie seqnum) int {
	v := uint32(cookie - irs - seqnum(p.cookieHash(t, cookieNoTick)))
	now := p.cookieTick()
	tick := (now & 0xffffff00) | v>>24
	if tick > now {
		tick -= 1 << 8
	}
	if now-tick > cookieMaxAge {
		return -1
	}
	idx := int((v - p.cookieHash(t, tick)) & 0xffffff)
	if idx >= len(msstab) {
		return -1
	}
	return idx
}

// cookieV4CheckLocked rebuilds a request sock from the ACK that answers a
// cookie SYN-ACK and creates the child (Linux: cookie_v4_check).
func (l *Sock) cookieV4CheckLocked(g *segment) *Sock {
	p := l.proto
	if !p.cfg.SynCookies {
		return nil
	}
	t := g.tuple()
	irs := g.seq.add(-1)
	idx := p.cookieCheck(t, irs, g.ack.add(-1))
	if idx < 0 {
		p.MIB.SyncookiesFailed.Add(1)
		return nil
	}
	p.MIB.SyncookiesRecv.Add(1)
	r := &requestSock{listener: l, tuple: t, iss: g.ack.add(-1), irs: irs,
		peerMSS: msstab[idx], peerWnd: g.wnd, cookie: true, tsOffset: p.tsOffset(t)}
	cookieCheckTimestamp(r, g)
	l.reqInitWindowLocked(r)
	return l.tcpV4SynRecvSockLocked(r, g)
}

// Bits of a cookie SYN-ACK's TSval (Linux: TS_OPT_WSCALE_MASK, TS_OPT_SACK).
const (
	cookieNoWS = 0xf
	cookieSACK = 0x10
)

// cookieCheckTimestamp recovers WS and SACK-permitted from the echoed
// timestamp (Linux: cookie_timestamp_decode).
func cookieCheckTimestamp(r *requestSock, g *segment) {
	if !g.opts.HasTS || g.opts.TSEcr == 0 {
		return
	}
	r.tsOK, r.tsRecent = true, g.opts.TSVal
	ecr := g.opts.TSEcr
	if ws := ecr & 0xf; ws != cookieNoWS {
		r.wsOK, r.sndWS = true, uint8(min(ws, 14))
	}
	r.sackOK = ecr&cookieSACK != 0
}
