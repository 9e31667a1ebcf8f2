package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/qemu/harness"
)

// everyBoots is how many boots TestQEMUEveryBoot makes: a byte lost once
// in a dozen boots (as at the UART's FIFO switch), or a TSC calibrated
// 29% high once in 32 boots (a preempted PIT window), shows up.
const everyBoots = 50

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

// tscLine is the boot message of the TSC calibration.
var tscLine = regexp.MustCompile(`tsc: Detected (\d+)\.(\d{3}) MHz TSC: (\d) of 5 PIT windows`)

// TestQEMUEveryBoot boots everyBoots times and checks, on each boot:
//   - type-ahead: a long script typed into the console before the guest
//     has even started runs every command exactly once, in order, with its
//     exact output; the UART counts every byte received and no overrun;
//   - the clock: the TSC rate the kernel calibrated is within 1% of the
//     host's, which a TCG guest's RDTSC reads (measured here against the
//     host's monotonic clock).
func TestQEMUEveryBoot(t *testing.T) {
	require.NoError(t, harness.CheckImage(harness.BuildDir()))
	script, want, throughStats := typeAheadScript(150)
	hostHz, err := harness.HostTSCHz()
	require.NoError(t, err)
	t.Logf("host TSC %.3f MHz", float64(hostHz)/1e6)
	var mu sync.Mutex
	var guestMHz []float64
	t.Cleanup(func() {
		if len(guestMHz) > 0 {
			slices.Sort(guestMHz)
			t.Logf("%d calibrations: %.3f to %.3f MHz (host %.3f)", len(guestMHz),
				guestMHz[0], guestMHz[len(guestMHz)-1], float64(hostHz)/1e6)
		}
	})
	for i := range everyBoots {
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

			tsc := tscLine.FindStringSubmatch(out[:start])
			require.NotNil(t, tsc, "no TSC calibration message before the banner:\n%q", out[:start])
			kHz, _ := strconv.ParseUint(tsc[1]+tsc[2], 10, 64)
			mu.Lock()
			guestMHz = append(guestMHz, float64(kHz)/1e3)
			mu.Unlock()
			assert.InEpsilon(t, float64(hostHz), float64(kHz)*1e3, 0.01,
				"the guest calibrated its TSC more than 1%% away from the host's: %s", tsc[0])

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
