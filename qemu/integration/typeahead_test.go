package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/qemu/harness"
)

// typeAheadBoots is how many boots TestQEMUTypeAheadEveryBoot makes: a
// byte lost once in a dozen boots (as at the FIFO switch) shows up.
const typeAheadBoots = 50

// typeAheadScript is a long piped script: n distinct echo lines, then the
// serial statistics and quit. It returns the script, the exact
// console output the echo lines must give after the banner, and the
// length of the script up to the statistics line.
func typeAheadScript(n int) (script, want string, throughStats int) {
	var s, w strings.Builder
	for i := range n {
		word := fmt.Sprintf("line-%03d-the-quick-brown-fox-jumps", i)
		s.WriteString("echo " + word + "\n")
		w.WriteString(prompt + "echo " + word + "\r\n" + word + "\r\n")
	}
	s.WriteString("cat /proc/tty/driver/serial\n")
	throughStats = s.Len()
	s.WriteString("quit\n")
	return s.String(), w.String(), throughStats
}

// serialLine is /proc/tty/driver/serial's line for COM1 (Linux's layout).
var serialLine = regexp.MustCompile(`(?m)^0: uart:16550A port:000003F8 irq:4 tx:(\d+) rx:(\d+)( oe:\d+)?\r$`)

// TestQEMUTypeAheadEveryBoot types a long script into the console before
// the guest has even started, boot after boot: every command must run
// exactly once, in order, with its exact output, and the UART must count
// every byte received and no overrun.
func TestQEMUTypeAheadEveryBoot(t *testing.T) {
	require.NoError(t, harness.CheckImage(harness.BuildDir()))
	script, want, throughStats := typeAheadScript(150)
	for i := range typeAheadBoots {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel() // as many guests as -parallel (GOMAXPROCS) allows
			m := harness.StartT(t, harness.Config{Timeout: 2 * time.Minute})
			require.NoError(t, m.Send(script))
			status, err := m.Wait(2 * time.Minute)
			require.NoError(t, err)
			assert.Equal(t, 0, status, "quit powers off with status 0")
			out := m.Output()
			start := strings.Index(out, banner)
			require.GreaterOrEqual(t, start, 0, "no banner")
			out = out[start+len(banner):]
			require.True(t, strings.HasPrefix(out, want),
				"the echo lines' transcript differs at byte %d:\n got %q\nwant %q",
				firstDiff(out, want), around(out, firstDiff(out, want)), around(want, firstDiff(out, want)))
			rest := out[len(want):]
			g := serialLine.FindStringSubmatch(rest)
			require.NotNil(t, g, "no COM1 line in /proc/tty/driver/serial:\n%q", rest)
			assert.Empty(t, g[3], "the UART overran")
			rx, _ := strconv.Atoi(g[2])
			assert.GreaterOrEqual(t, rx, throughStats, "rx counts every byte typed up to the cat line")
			assert.LessOrEqual(t, rx, len(script))
			assert.True(t, strings.HasSuffix(rest, prompt+"quit\r\n"), "ends with quit: %q", tail(rest))
		})
	}
}

func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// around is the text near byte i, for failure messages.
func around(s string, i int) string {
	lo, hi := max(0, i-60), min(len(s), i+60)
	return s[lo:hi]
}
