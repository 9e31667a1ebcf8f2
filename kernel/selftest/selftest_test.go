package selftest

import (
	"bytes"
	"strings"
	"testing"
)

// The same checks pass on the host's Linux, which is what the kernel
// emulates for the runtime.
func TestAllPassOnHost(t *testing.T) {
	var out bytes.Buffer
	if !Run(&out, nil) {
		t.Fatalf("self-tests failed:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "selftest: 5 passed, 0 failed\n") {
		t.Fatalf("unexpected summary:\n%s", out.String())
	}
}

func TestRunSelectsByName(t *testing.T) {
	var out bytes.Buffer
	Run(&out, []string{"sleep"})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "selftest sleep: ok: ") || lines[1] != "selftest: 1 passed, 0 failed" {
		t.Fatalf("got %q", out.String())
	}
}
