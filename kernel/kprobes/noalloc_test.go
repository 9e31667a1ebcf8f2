package kprobes

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The probe handler and the trace ring's writers run in trap context with
// a fake g, where a heap allocation crashes the kernel. The compiler's
// escape analysis must find nothing on the heap in their files.
func TestTrapContextDoesNotAllocate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	out, err := exec.Command(goBin, "build", "-gcflags=-m", "gomenuos/kernel/kprobes", "gomenuos/sched/trace").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	trapFiles := map[string]bool{"kprobes.go": true, "emulate.go": true, "ring.go": true, "events.go": true}
	heap := regexp.MustCompile(`^(\S+\.go):\d+:\d+: (.*(escapes to heap|moved to heap).*)$`)
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		m := heap.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		seen++
		if trapFiles[filepath.Base(m[1])] {
			t.Errorf("trap-context code allocates: %s", line)
		}
	}
	if seen == 0 {
		t.Fatal("no escape analysis output at all: is -gcflags=-m still reporting?")
	}
}
