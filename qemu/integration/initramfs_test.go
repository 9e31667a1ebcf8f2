package integration

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// An initramfs of 200 MB boots in a 1 GiB guest: the boot stub puts the
// kernel above the modules, and the files keep living in the archive's
// memory (no second copy). A program reads a file from the far end of it.
func TestQEMUBigInitramfs(t *testing.T) {
	build := harness.BuildDir()
	dir := t.TempDir()
	for _, f := range []string{"boot.elf", "kernel.elf"} {
		if err := os.Symlink(filepath.Join(build, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	extra := filepath.Join(dir, "extra")
	if err := os.MkdirAll(filepath.Join(extra, "big"), 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 4<<20)
	var last [md5.Size]byte
	for i := 0; i < 50; i++ { // 50 files of 4 MiB
		for j := range chunk {
			chunk[j] = byte(rng.Uint32())
		}
		last = md5.Sum(chunk)
		if err := os.WriteFile(filepath.Join(extra, "big", fmt.Sprintf("f%02d", i)), chunk, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := filepath.Abs("../..")
	cmd := exec.Command("go", "run", "./fs/cmd/mkinitramfs", "-o", filepath.Join(dir, "initramfs.cpio"),
		"initramfs", filepath.Join(build, "rootfs"), extra)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkinitramfs: %v\n%s", err, out)
	}
	st, err := os.Stat(filepath.Join(dir, "initramfs.cpio"))
	if err != nil || st.Size() < 200<<20 {
		t.Fatalf("initramfs: %v, %d bytes", err, st.Size())
	}
	m := boot(t, harness.Config{BuildDir: dir, Memory: "1G", Timeout: 5 * time.Minute})
	out := run(t, m, "md5sum /big/f49")
	if want := fmt.Sprintf("%x  /big/f49", last); !strings.Contains(out, want) {
		t.Fatalf("md5sum: %q, want %q", out, want)
	}
	expectOutput(t, m, `sh -c "ls /big | wc -l"`, "50\n")
}
