package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

// TestQEMULinuxBreak: tcplab.py's `linux-break NAME` breaks by Linux name
// on the kernel ELF (no guest needed): the lab table first, then
// docs/linux-map.md, with "a / b" beside "`A` / `B`" matched by place and
// bare method names completed with the map's receiver types.
func TestQEMULinuxBreak(t *testing.T) {
	if err := harness.CheckImage(harness.BuildDir()); err != nil {
		t.Fatal(err)
	}
	_, kernel, _ := harness.Image(harness.BuildDir())
	want := map[string]string{
		"tcp_v4_connect":        "gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked",      // lab table
		"tcp_v4_do_rcv":         "gomenuos/net/tcp.(*Sock).tcpV4DoRcvLocked",        // lab table
		"inet_bind":             "gomenuos/net/inet.(*Socket).inetBind",             // inlined: DWARF only
		"sock_alloc":            "gomenuos/net/inet.(*Net).sockAlloc",               // the row naming only it
		"wake_up_interruptible": "gomenuos/sched.(*WaitQueue).WakeUpInterruptible",  // by place in its row
		"fd_install":            "gomenuos/fs.(*FDTable).Install",                   // (*fs.FDTable)
		"ip_rcv":                "gomenuos/net/stack.(*Stack).ipRcv",                // bare ipRcv, receiver from the map
		"tcp_ofo_queue":         "gomenuos/net/tcp.(*Sock).tcpOfoDrainLocked",       // `(*Sock).a` / `b`
		"switch_to":             "gomenuos/sched.switchTo",                          // sched.switchTo
		"ExecuteMenu":           "gomenuos/kernel/menu.(*Shell).dispatch",           // MenuOS's own name
		"virtnet_poll":          "gomenuos/drivers/virtio/virtionet.(*Device).poll", // `vring_interrupt` → `virtnet_poll`
	}
	args := []string{"-q", "-batch", "-nx", "-iex", "set auto-load python-scripts off",
		"-ex", "file " + kernel, "-x", filepath.Join(repoRoot(t), lab.ScriptPath)}
	for name := range want {
		args = append(args, "-ex", "linux-break "+name)
	}
	args = append(args, "-ex", "linux-break no_such_function", "-ex", "info breakpoints")
	out, err := exec.Command("gdb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	text := string(out)
	for name, sym := range want {
		if !strings.Contains(text, name+"  ->  "+sym+"\n") {
			t.Errorf("linux-break %s: want %s", name, sym)
		}
		// gdb's breakpoint table holds it (one line per location).
		if !strings.Contains(text, " in "+sym+" at ") {
			t.Errorf("no breakpoint location in %s", sym)
		}
	}
	if !strings.Contains(text, "linux-break no_such_function: not in the lab table or docs/linux-map.md") {
		t.Errorf("an unknown name is not reported")
	}
	if t.Failed() {
		t.Logf("gdb output:\n%s", text)
	}
}
