package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"gomenuos/qemu/harness"
)

func TestQEMUOverlongLine(t *testing.T) {
	m := boot(t, harness.Config{})
	got := run(t, m, strings.Repeat("a", 10000))
	want := strings.Repeat("a", 4095) + "\r\nline too long (more than 4095 bytes)\r\n" + prompt
	if got != want {
		t.Errorf("10,000-character line:\n got %d bytes ending %q\nwant %d bytes ending %q",
			len(got), tail(got), len(want), tail(want))
	}
	versionStillWorks(t, m)
}

func TestQEMUBinaryGarbage(t *testing.T) {
	m := boot(t, harness.Config{})
	r := rand.New(rand.NewPCG(7, 11))
	garbage := make([]byte, 2048)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	if bytes.Contains(garbage, []byte("quit")) {
		t.Fatal("the garbage seed types quit; pick another")
	}
	// Ctrl-C drops a half-typed garbage line, CR ends it.
	m.Send(string(garbage) + "\x03\r")
	if _, err := m.Expect("This is a wrong cmd!\r\n", cmdTimeout); err != nil {
		t.Errorf("garbage got no wrong-cmd answer: %v", err)
	}
	versionStillWorks(t, m)
}

// versionStillWorks proves the shell survived: a fresh command answers.
func versionStillWorks(t *testing.T, m *harness.Machine) {
	t.Helper()
	m.Send("version\r")
	want := fmt.Sprintf("version\r\ngomenuos 0.1 (Go %s, MenuOS-compatible shell)\r\n%s", runtime.Version(), prompt)
	if _, err := m.Expect(want, cmdTimeout); err != nil {
		t.Fatalf("shell no longer answers: %v", err)
	}
}

func TestQEMUCtrlCInterruptsCommand(t *testing.T) {
	m := boot(t, harness.Config{})
	m.Send("sleep 600\r")
	if _, err := m.Expect("sleep 600\r\n", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the command reach its wait
	m.Send("\x03")
	if got, err := m.Expect(prompt, cmdTimeout); err != nil || got != "^C\r\nsleep: interrupted\r\n"+prompt {
		t.Fatalf("after Ctrl-C: %q, %v", got, err)
	}
	// Ctrl-C at the prompt cancels the line; Ctrl-D does nothing.
	m.Send("hel\x03\x04")
	if got, err := m.Expect(prompt, cmdTimeout); err != nil || got != "hel^C\r\n"+prompt {
		t.Fatalf("Ctrl-C at the prompt: %q, %v", got, err)
	}
	versionStillWorks(t, m)
}

func TestQEMUBackgroundJob(t *testing.T) {
	m := boot(t, harness.Config{})
	if got := run(t, m, "sleep 1 &"); got != "sleep 1 &\r\n[1] started\r\n"+prompt {
		t.Fatalf("starting a job: %q", got)
	}
	if got := run(t, m, "jobs"); got != "jobs\r\n[1] running  sleep 1\r\n"+prompt {
		t.Errorf("jobs: %q", got)
	}
	// The end of the job is reported on a fresh line and the prompt drawn again.
	if _, err := m.Expect("\r\n[1] done  sleep 1\r\n"+prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

// TestQEMULineEditing: the console edits like a Linux one. Tab completes a
// command name, Left and a typed character fix a word, Up recalls the
// last line, Tab completes a path under /proc.
func TestQEMULineEditing(t *testing.T) {
	m := boot(t, harness.Config{})
	version := fmt.Sprintf("gomenuos 0.1 (Go %s, MenuOS-compatible shell)\r\n", runtime.Version())
	out := run(t, m, "ver\t")
	assert.True(t, strings.HasSuffix(out, "\r\n"+version+prompt), "Tab completes version: %q", out)
	out = run(t, m, "\x1b[A")
	assert.True(t, strings.HasSuffix(out, "\r\n"+version+prompt), "Up runs version again: %q", out)
	out = run(t, m, "cat /proc/uptme\x1b[D\x1b[Di")
	assert.Regexp(t, `^cat /proc/uptme\x08\x08ime\x08\x08me\r\n\d+\.\d\d \d+\.\d\d\r\n`+prompt+`$`, out)
	out = run(t, m, "cat /proc/upt\t")
	assert.Regexp(t, `\r\n\d+\.\d\d \d+\.\d\d\r\n`+prompt+`$`, out)
}
