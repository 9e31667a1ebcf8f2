// Command conntl looks at host→guest connections from inside the guest.
// It boots our image on a tap in a fresh network namespace (root), starts
// a server (by default user/tcpbulk hi), makes -warm connections from the
// host, then runs guest lines (-before), makes -conns more, and runs
// guest lines again (-after). For example:
//
//	go run ./qemu/conntl -conns 2 -before "trace kernel.trace(\"sched_*\") kernel.trace(\"tcp:*\")"
//
// prints two connections' scheduler and TCP events; -icount with
// -before kstat -after kstat counts the instructions and thread switches
// of 300 (the guest clock then counts instructions). docs/performance.md
// shows what it found.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/relay"
)

func main() {
	dir := flag.String("build", "build", "build directory")
	setup := flag.String("setup", "tcpbulk hi 5006 &", "guest line starting the server")
	ready := flag.String("ready", "listening on", "what the server prints once it listens")
	port := flag.Int("port", 5006, "the server's port")
	warm := flag.Int("warm", 100, "connections before the traced ones")
	conns := flag.Int("conns", 3, "traced connections")
	before := flag.String("before", "", "guest lines before the traced connections (;; apart)")
	after := flag.String("after", "trace", "guest lines after them (;; apart)")
	flag.BoolVar(&icount, "icount", false, "run QEMU with -icount shift=0,sleep=off (the guest clock counts instructions)")
	flag.Parse()
	if err := run(*dir, *setup, *ready, *port, *warm, *conns, *before, *after); err != nil {
		fmt.Fprintln(os.Stderr, "conntl:", err)
		os.Exit(1)
	}
}

var icount bool

func run(dir, setup, ready string, port, warm, conns int, before, after string) error {
	ns, err := relay.NewNetns("gmconntl")
	if err != nil {
		return err
	}
	defer ns.Close()
	cfg := harness.Config{BuildDir: dir, Cmdline: "ip=" + relay.NetnsGuestIP + "/24 gw=" + relay.NetnsHostIP,
		ExtraArgs: harness.TapNet(ns.Tap), Timeout: 20 * time.Minute}
	if icount {
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-icount", "shift=0,sleep=off")
	}
	cfg.Command = ns.Command(cfg.Args())
	m, err := harness.Start(cfg)
	if err != nil {
		return err
	}
	defer m.Kill()
	const prompt = "MenuOS>>"
	if _, err := m.Expect(prompt, time.Minute); err != nil {
		return err
	}
	m.Send(setup + "\r")
	if _, err := m.Expect(ready, 20*time.Second); err != nil {
		return err
	}
	dial := func() error {
		var c net.Conn
		err := ns.Do(func() (err error) {
			c, err = net.DialTimeout("tcp", net.JoinHostPort(relay.NetnsGuestIP, strconv.Itoa(port)), 10*time.Second)
			return err
		})
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("hello")); err != nil {
			return err
		}
		buf := make([]byte, 2)
		_, err = io.ReadFull(c, buf)
		return err
	}
	for range warm {
		if err := dial(); err != nil {
			return err
		}
	}
	lines := func(s string) error {
		for _, l := range strings.Split(s, ";;") {
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
			out, err := m.Command(l, prompt, 5*time.Minute)
			if err != nil {
				return err
			}
			fmt.Print(out)
		}
		return nil
	}
	if err := lines(before); err != nil {
		return err
	}

	start := time.Now()
	for range conns {
		if err := dial(); err != nil {
			return err
		}
	}
	fmt.Printf("conntl: %d connections in %v\n", conns, time.Since(start))
	return lines(after)
}
