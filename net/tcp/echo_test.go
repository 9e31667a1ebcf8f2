package tcp

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestEchoBothWays streams data from A to B while B echoes it back, so
// both directions carry data and ACKs at once.
func TestEchoBothWays(t *testing.T) {
	for _, loss := range []float64{0, 0.01, 0.05} {
		t.Run(fmt.Sprint(loss), func(t *testing.T) {
			l, a, b := newPair(t, impair{delay: time.Millisecond, jitter: 500 * time.Microsecond, loss: loss})
			c, s := connectPairRetry(t, l, a, b)
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = byte(i ^ i>>9)
			}
			var got []byte
			buf := make([]byte, 32<<10)
			sent, shut, srvClosed := 0, false, false
			for step := 0; step < 600000; step++ {
				if sent < len(data) {
					n, _ := c.Send(data[sent:])
					sent += n
				} else if !shut {
					must(t, c.Shutdown(ShutWr))
					shut = true
				}
				// echo
				if n, err := s.Recv(buf, false); err == nil && n > 0 {
					off := 0
					for off < n {
						k, err := s.Send(buf[off:n])
						if err == ErrWouldBlock {
							l.run(time.Millisecond)
							continue
						}
						must(t, err)
						off += k
					}
				} else if err == nil && n == 0 && !srvClosed {
					s.Close()
					srvClosed = true
				}
				if n, err := c.Recv(buf, false); err == nil && n > 0 {
					got = append(got, buf[:n]...)
				} else if err == nil && n == 0 {
					break
				}
				l.run(time.Millisecond)
			}
			if !bytes.Equal(got, data) {
				var pb bytes.Buffer
				a.WriteProcNetTCP(&pb)
				b.WriteProcNetTCP(&pb)
				t.Fatalf("echoed %d of %d bytes (sent %d); c %v s %v\n%s", len(got), len(data), sent, c.State(), s.State(), pb.String())
			}
		})
	}
}
