package shellcmd

import (
	"fmt"
	"io"
	"strconv"

	"gomenuos/sched"
)

// defaultWakeRounds is enough round trips for a stable median in a TCG
// guest while taking well under a second.
const defaultWakeRounds = 10000

// Wakelat measures wait-queue wake-up latency: two goroutines pass a turn
// through two sched.WaitQueues (the globalvar read/write path's
// mechanism) and the median time per switch is printed:
//
//	wakelat: 10000 rounds, median 5539 ns/switch
//
// It is the guest figure make bench reports next to a Linux guest's pipe
// ping-pong under the same QEMU.
func Wakelat(_ *sched.Task, out io.Writer, args []string) error {
	rounds := defaultWakeRounds
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 10_000_000 {
			return usage("wakelat [ROUNDS]")
		}
		rounds = n
	}
	median := sched.PingPongLatency(rounds)
	fmt.Fprintf(out, "wakelat: %d rounds, median %d ns/switch\n", rounds, median.Nanoseconds())
	return nil
}
