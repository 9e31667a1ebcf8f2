// Command relay puts the impairing relay between a guest on QEMU's
// datagram backend and a tap, for trying the lossy path by hand:
//
//	qemu/netns.sh up
//	go run ./qemu/relay/cmd/relay -ns gomenuos -tap gmtap0 -loss 0.05 -reorder 0.05 -dup 0.05 &
//	ip netns exec gomenuos qemu-system-x86_64 ... -append 'ip=10.0.3.2/24 gw=10.0.3.1' \
//	  -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=40000,remote.type=inet,remote.host=127.0.0.1,remote.port=40001 \
//	  -device virtio-net-pci,netdev=n0,romfile=
//
// It prints each direction's counters every few seconds and on exit.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"time"

	"gomenuos/qemu/relay"
)

func main() {
	nsName := flag.String("ns", "", "network namespace holding the tap (ip netns name); empty: the current one")
	tapName := flag.String("tap", relay.NetnsTap, "tap device to attach to")
	listen := flag.Int("port", 40001, "UDP port on 127.0.0.1 the relay listens on (QEMU's remote.port)")
	qemuPort := flag.Int("qemu", 40000, "UDP port on 127.0.0.1 QEMU listens on (QEMU's local.port)")
	every := flag.Duration("every", 5*time.Second, "how often to print the counters")
	var imp relay.Impair
	flag.Float64Var(&imp.Loss, "loss", 0.05, "probability a frame is dropped")
	flag.Float64Var(&imp.Reorder, "reorder", 0.05, "probability a frame is held back behind the next")
	flag.Float64Var(&imp.Dup, "dup", 0.05, "probability a frame is sent twice")
	flag.Int64Var(&imp.Seed, "seed", 1, "random seed")
	flag.Parse()
	r, err := open(*nsName, *tapName, *listen, *qemuPort, imp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	tick := time.NewTicker(*every)
	for {
		select {
		case <-tick.C:
			show(r)
		case <-stop:
			r.Close()
			show(r)
			return
		}
	}
}

// open makes both ports (inside the namespace if one is named) and starts
// the relay.
func open(nsName, tapName string, listen, qemuPort int, imp relay.Impair) (*relay.Relay, error) {
	var udp *net.UDPConn
	var tap *relay.TapPort
	mk := func() (err error) {
		if udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: listen}); err != nil {
			return err
		}
		tap, err = relay.OpenTap(tapName)
		return err
	}
	var err error
	if nsName == "" {
		err = mk()
	} else {
		err = (&relay.Netns{Name: nsName}).Do(mk)
	}
	if err != nil {
		return nil, err
	}
	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qemuPort}
	return relay.Start(&relay.UDPPort{Conn: udp, Peer: peer}, tap, imp), nil
}

func show(r *relay.Relay) {
	for _, d := range []struct {
		name string
		st   *relay.Stats
	}{{"guest→tap", &r.AtoB}, {"tap→guest", &r.BtoA}} {
		fmt.Printf("%s: %d frames, %d dropped, %d reordered, %d duplicated\n", d.name,
			d.st.Frames.Load(), d.st.Dropped.Load(), d.st.Reordered.Load(), d.st.Duplicated.Load())
	}
}
