package linux

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Trap-context code runs with a fake g: a heap allocation there crashes
// the kernel (mallocgc dereferences g.m). The compiler's escape analysis
// tells us whether any value in the trap-context packages would live on
// the heap; only the goroutine-side API files may allocate.
func TestTrapContextDoesNotAllocate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	pkgs := []string{"gomenuos/kernel/linux", "gomenuos/kernel/mm", "gomenuos/arch/x86", "gomenuos/sched", "gomenuos/drivers/uart", "gomenuos/drivers/power"}
	out, err := exec.Command(goBin, append([]string{"build", "-gcflags=-m"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	// Goroutine-context files, allowed to allocate.
	allowed := map[string]bool{"api.go": true, "waitqueue.go": true, "task.go": true,
		"waitqueue_pingpong.go": true, "waitqueue_errno.go": true,
		"umm.go": true, "uaccess.go": true, // kernel/mm's user address spaces: goroutine context
		"ksleep.go": true} // sched's kernel sleep for user threads' tasks: goroutine context
	heap := regexp.MustCompile(`^(\S+\.go):\d+:\d+: (.*(escapes to heap|moved to heap).*)$`)
	for _, line := range strings.Split(string(out), "\n") {
		m := heap.FindStringSubmatch(line)
		if m == nil || allowed[filepath.Base(m[1])] {
			continue
		}
		t.Errorf("trap-context code allocates: %s", line)
	}
}
