package harness

import "fmt"

// NetID is the netdev id the helpers below give the guest's NIC, so a
// capture can name it.
const NetID = "n0"

// virtioNIC is the guest's NIC: virtio-net (the only one we drive), without
// an option ROM (iPXE would poll the serial console during boot).
var virtioNIC = []string{"-device", "virtio-net-pci,netdev=" + NetID + ",romfile="}

// UserNet returns QEMU arguments for user-mode networking (the guest sees
// 10.0.2.15, gateway 10.0.2.2) with host→guest forwards written as QEMU
// spells them, e.g. "tcp:127.0.0.1:15001-:5001".
func UserNet(hostfwd ...string) []string {
	netdev := "user,id=" + NetID
	for _, f := range hostfwd {
		netdev += ",hostfwd=" + f
	}
	return append([]string{"-netdev", netdev}, virtioNIC...)
}

// TapNet returns QEMU arguments attaching the guest to an existing tap
// device (created by the test, e.g. inside its own network namespace).
func TapNet(ifname string) []string {
	return append([]string{"-netdev",
		fmt.Sprintf("tap,id=%s,ifname=%s,script=no,downscript=no", NetID, ifname)}, virtioNIC...)
}

// PcapDump returns QEMU arguments that write every frame of the NIC to a
// pcap file (QEMU's filter-dump), for Wireshark or gopacket.
func PcapDump(path string) []string {
	return []string{"-object", fmt.Sprintf("filter-dump,id=dump0,netdev=%s,file=%s", NetID, path)}
}
