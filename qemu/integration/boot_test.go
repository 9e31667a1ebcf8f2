// Package integration boots the built image in QEMU and checks the MenuOS
// console byte for byte. `make test` runs it after building the image and
// sets GOMENUOS_BUILD; a missing image fails the tests (it never skips).
package integration

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// Timeouts are generous: TCG on a shared 2-core machine. Boot speed is a
// benchmark figure (make bench), not a pass/fail criterion.
const (
	bootTimeout = 30 * time.Second
	cmdTimeout  = 10 * time.Second
)

// banner is MenuOS's banner as the console shows it (CR LF line ends).
var banner = crlf(`                                                            
  *    *                                   ****       ****  
 ***  ***     **        **      *    *    *    *     **     
 * *  * *    *  *      *  *     *    *   *      *   **      
 * *  * *   *    *    *    *    *    *   *      *    ***    
 *  **  *   ******    *    *    *    *   *      *      **   
 *      *   *         *    *    *    *   *      *       **  
 *      *    *        *    *     *  **    *    *       **   
 *      *     ***     *    *      **  *    ****     ****    
                                                            
`)

const prompt = "MenuOS>>"

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// boot starts the image and waits for the banner and the first prompt.
func boot(t *testing.T, cfg harness.Config) *harness.Machine {
	t.Helper()
	if cfg.BuildDir == "" {
		cfg.BuildDir = harness.BuildDir()
	}
	if err := harness.CheckImage(cfg.BuildDir); err != nil {
		t.Fatal(err)
	}
	m := harness.StartT(t, cfg)
	if _, err := m.Expect(banner+prompt, bootTimeout); err != nil {
		t.Fatalf("no banner and prompt: %v", err)
	}
	return m
}

// run types line (ending it with CR, as a terminal does) and returns the
// exact console output up to and including the next prompt.
func run(t *testing.T, m *harness.Machine, line string) string {
	t.Helper()
	if err := m.Send(line + "\r"); err != nil {
		t.Fatal(err)
	}
	out, err := m.Expect(prompt, cmdTimeout)
	if err != nil {
		t.Fatalf("after %q: %v", line, err)
	}
	return out
}

func TestQEMUBootBannerAndPrompt(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(banner, "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) != 60 || len(lines) != 10 {
			t.Fatalf("test banner line %d of %d has %d characters; want 10 lines of 60", i, len(lines), len(l))
		}
	}
	m := boot(t, harness.Config{})
	// Nothing but the banner and the prompt before it: no stray log lines
	// between them (kernel messages may precede the banner).
	out := m.Output()
	i := strings.Index(out, banner)
	if i < 0 || !strings.HasSuffix(out, banner+prompt) {
		t.Fatalf("console does not end with banner+prompt:\n%q", out)
	}
	t.Logf("console before the banner: %d bytes; prompt after %v", i, m.Since())
}

func TestQEMUCommandTranscripts(t *testing.T) {
	m := boot(t, harness.Config{})
	for _, tc := range []struct{ line, want string }{
		{"version", fmt.Sprintf("version\ngomenuos 0.1 (Go %s, MenuOS-compatible shell)\n", runtime.Version())},
		{"foo", "foo\nThis is a wrong cmd!\n"},
		{"", "\n"},
		{"  ", "  \n"},
	} {
		if got, want := run(t, m, tc.line), crlf(tc.want)+prompt; got != want {
			t.Errorf("%q:\n got %q\nwant %q", tc.line, got, want)
		}
	}
}

// builtinHelp is the start of `help`; the net and fs commands follow.
const builtinHelp = "help\n" +
	"help - Menu List:\n" +
	"version - Show the gomenuos and Go versions\n" +
	"quit - Quit from MenuOS (power off)\n" +
	"time - Show the time: year:month(0-11):day:hour:min:sec\n" +
	"jobs - List background jobs (start one with CMD &)\n" +
	"kill - Interrupt background job N\n" +
	"sleep - Sleep N seconds (Ctrl-C interrupts)\n"

func TestQEMUHelp(t *testing.T) {
	m := boot(t, harness.Config{})
	got := run(t, m, "help")
	rest, ok := strings.CutPrefix(got, crlf(builtinHelp))
	if !ok {
		t.Fatalf("help:\n got %q\nwant prefix %q", got, crlf(builtinHelp))
	}
	extra := regexp.MustCompile(`^[^ \r\n]+ - [^\r\n]+\r\n$`)
	lines := strings.SplitAfter(strings.TrimSuffix(rest, prompt), "\r\n")
	for _, l := range lines[:len(lines)-1] {
		if !extra.MatchString(l) {
			t.Errorf("help line %q is not `name - description`", l)
		}
	}
	if lines[len(lines)-1] != "" {
		t.Errorf("help ends with %q before the prompt", lines[len(lines)-1])
	}
}

func TestQEMUTimeFromRTC(t *testing.T) {
	m := boot(t, harness.Config{})
	before := time.Now().UTC()
	got := run(t, m, "time")
	re := regexp.MustCompile(`^time\r\ntime:(\d+):(\d+):(\d+):(\d+):(\d+):(\d+)\r\nMenuOS>>$`)
	g := re.FindStringSubmatch(got)
	if g == nil {
		t.Fatalf("time printed %q", got)
	}
	var f [6]int
	for i := range f {
		fmt.Sscan(g[i+1], &f[i])
	}
	// QEMU's RTC starts at the host's UTC time; month is 0-based.
	guest := time.Date(f[0], time.Month(f[1]+1), f[2], f[3], f[4], f[5], 0, time.UTC)
	if d := guest.Sub(before); d < -2*time.Minute || d > 2*time.Minute {
		t.Errorf("guest time %v is %v away from the host's %v", guest, d, before)
	}
}

func TestQEMUQuitPowersOff(t *testing.T) {
	m := boot(t, harness.Config{})
	m.Send("quit\r")
	if _, err := m.Expect("quit\r\n", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	status, err := m.Wait(cmdTimeout)
	if err != nil || status != 0 {
		t.Fatalf("QEMU exit = %d, %v; want 0 (ACPI power-off)", status, err)
	}
}
