package main

import (
	"io"
	"net/netip"

	"gomenuos/fs/procfs"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/netcmd"
	"gomenuos/net/clock"
	"gomenuos/net/inet"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
)

// bootNet builds the network stack: lo (127.0.0.1/8) always, TCP
// registered with IPv4, the /proc/net views, and the network commands.
func bootNet(sh *menu.Shell, background io.Writer) (*netcmd.Env, error) {
	clk := clock.Real()
	st := stack.New(stack.Options{Clock: clk})
	if _, err := st.AddInterface(link.NewLoopback(), netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		return nil, err
	}
	n := inet.NewNet(st, clk, tcp.DefaultConfig())
	for path, show := range map[string]func(io.Writer){
		"net/tcp":  n.TCP().WriteProcNetTCP,
		"net/snmp": func(w io.Writer) { io.WriteString(w, st.SNMPText()) },
		"net/dev":  func(w io.Writer) { io.WriteString(w, st.DevText()) },
		"net/arp":  func(w io.Writer) { io.WriteString(w, st.ARPText()) },
	} {
		if err := procfs.Register(path, show); err != nil {
			return nil, err
		}
	}
	env := &netcmd.Env{Net: n, Stack: st, Background: background}
	for _, c := range netcmd.Commands(env) {
		if err := sh.Register(c); err != nil {
			return nil, err
		}
	}
	return env, nil
}
