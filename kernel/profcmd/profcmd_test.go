package profcmd

import (
	"bytes"
	"strings"
	"testing"
)

// A profile printed on the console comes back byte for byte, even with
// the terminal's CRs and the prompt around it.
func TestEncodeDecodeThroughConsole(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var b bytes.Buffer
	b.WriteString("MenuOS>>pprof stop\r\n")
	if err := Encode(&b, "cpu", data); err != nil {
		t.Fatal(err)
	}
	console := strings.ReplaceAll(b.String(), "\n", "\r\n") + "MenuOS>>"
	kind, got, err := Decode(console)
	if err != nil || kind != "cpu" || !bytes.Equal(got, data) {
		t.Fatalf("Decode = %q, %d bytes, %v; want cpu, the %d bytes", kind, len(got), err, len(data))
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if len(line) > 76 && !strings.HasPrefix(line, "-----") {
			t.Fatalf("line of %d characters: %q", len(line), line)
		}
	}
}

// A profile cut short (the console lost its end) or of the wrong length is
// an error, not a truncated file.
func TestDecodeRejectsDamage(t *testing.T) {
	var b bytes.Buffer
	Encode(&b, "heap", []byte("0123456789abcdef"))
	s := b.String()
	if _, _, err := Decode(s[:strings.Index(s, "-----END")]); err == nil {
		t.Error("an unterminated profile decoded")
	}
	if _, _, err := Decode(strings.Replace(s, "heap 16", "heap 17", 1)); err == nil {
		t.Error("a profile of the wrong length decoded")
	}
	if _, _, err := Decode("MenuOS>>"); err == nil {
		t.Error("no profile, no error")
	}
}
