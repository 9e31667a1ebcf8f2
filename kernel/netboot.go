package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"gomenuos/drivers/pci"
	"gomenuos/drivers/virtio"
	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/fs/procfs"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/netcmd"
	"gomenuos/kernel/proc"
	"gomenuos/net/clock"
	"gomenuos/net/inet"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
)

// Default eth0 configuration: QEMU user networking's guest address.
const (
	defaultIP = "10.0.2.15/24"
	defaultGW = "10.0.2.2"
)

// bootNet builds the network stack: lo (127.0.0.1/8) always, eth0 on a
// virtio-net NIC when there is one (ip= and gw= on the kernel command line,
// QEMU user networking's addresses by default), TCP and UDP registered with
// IPv4, the /proc/net views, and the network commands.
func bootNet(sh *menu.Shell, background io.Writer) (*netcmd.Env, error) {
	clk := clock.Real()
	st := stack.New(stack.Options{Clock: clk})
	if _, err := st.AddInterface(link.NewLoopback(), netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		return nil, err
	}
	devs := pci.Scan(pci.NewConfig(portIO{}))
	nic, err := bootEth0(st, devs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gomenuos: eth0:", err) // lo still works
	}
	cfg := tcp.DefaultConfig()
	if v := bootValue("tcp_timewait", ""); v != "" { // e.g. tcp_timewait=2s (Linux: TCP_TIMEWAIT_LEN, 60 s)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("bad tcp_timewait=%s", v)
		}
		cfg.TimeWait = d
	}
	n := inet.NewNet(st, clk, cfg)
	proc.Net.Store(n) // processes' sockets share the stack with the shell's commands
	for path, show := range map[string]func(io.Writer){
		"net/tcp": n.TCP().WriteProcNetTCP,
		"net/udp": n.UDP().WriteProcNetUDP,
		"net/snmp": func(w io.Writer) {
			io.WriteString(w, st.SNMPText())
			n.TCP().MIB.WriteSNMP(w)
			n.UDP().MIB.WriteSNMP(w)
		},
		"net/netstat":     n.TCP().MIB.WriteNetstat,
		"net/dev":         func(w io.Writer) { io.WriteString(w, st.DevText()) },
		"net/arp":         func(w io.Writer) { io.WriteString(w, st.ARPText()) },
		"bus/pci/devices": func(w io.Writer) { pci.WriteListing(w, devs, false) },
		// The driver's own counters (Linux: ethtool -S eth0).
		"net/virtio_net": func(w io.Writer) {
			if nic != nil {
				nic.Stats.WriteTo(w)
			}
		},
	} {
		if err := procfs.Register(path, show); err != nil {
			return nil, err
		}
	}
	env := &netcmd.Env{Net: n, Stack: st, Background: background}
	cmds := append(netcmd.Commands(env), menu.Command{Name: "lspci", Desc: "List PCI devices: lspci [-v]",
		Run: func(c *menu.Ctx, args []string) error {
			pci.WriteListing(c.Out, devs, len(args) == 1 && args[0] == "-v")
			return nil
		}})
	cmds = append(cmds, netcmd.BulkCommands(env)...)
	for _, c := range cmds {
		if err := sh.Register(c); err != nil {
			return nil, err
		}
	}
	return env, nil
}

func bootEth0(st *stack.Stack, devs []*pci.Device) (*virtionet.Device, error) {
	pd := pci.Find(devs, virtio.PCIVendor, virtio.PCIDeviceNetLegacy, virtio.PCIDeviceModernBase+virtio.DeviceIDNet)
	if pd == nil {
		return nil, nil // no NIC: lo only
	}
	ip, gw := bootValue("ip", defaultIP), bootValue("gw", defaultGW)
	prefix, err := netip.ParsePrefix(ip)
	if err != nil {
		return nil, fmt.Errorf("bad ip=%s: %v", ip, err)
	}
	nic, err := virtionet.Probe(pd, kmem{}, kirqs{}, virtionet.Options{Name: "eth0"})
	if err != nil {
		return nil, err
	}
	if _, err := st.AddInterface(nic, prefix); err != nil {
		return nil, err
	}
	if gw == "" {
		return nic, nil
	}
	g, err := netip.ParseAddr(gw)
	if err != nil {
		return nic, fmt.Errorf("bad gw=%s: %v", gw, err)
	}
	return nic, st.SetDefaultGateway(g)
}

// bootValue returns the value of name=value on the kernel command line.
func bootValue(name, def string) string {
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return def
}
