# gomenuos — see README.md.
#   make run     boot to the MenuOS>> prompt (installs the host tools if missing)
#   make test    host unit tests + QEMU integration tests
#   make bench   benchmarks (print figures)
#   make debug / make gdb   boot waiting for gdb (on :1234 when free) / attach gdb
#   make lab / make lab-c   the gdb TCP lab unattended, on the Go shell / the C MenuOS
#   make deps    install the host tools all of these use (scripts/deps.sh)

GO      ?= go
BUILD   ?= build
KLINK   := -0x7bfff000
# The kernel is linked in the top 2 GiB (0xffffffff84001000; Go's -T wants
# it as a negative number): see arch/x86/unsafe.go for the layout.
LDFLAGS := -E gomenuos/kernel/linux.entry -T $(KLINK)
CFLAGS32 := -m32 -O2 -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -mno-sse -mno-mmx -Wall -Werror
GOENV   := CGO_ENABLED=0 GOOS=linux GOARCH=amd64

export GOMENUOS_BUILD := $(abspath $(BUILD))

.PHONY: all image run run-tap fuzz debug gdb lab lab-c trace test unit integration bench profile clean generate deps FORCE

all: image

image: deps $(BUILD)/boot.elf $(BUILD)/kernel.elf $(BUILD)/initramfs.cpio

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/boot.elf: boot/multiboot.S boot/loader.c boot/link.ld | $(BUILD) deps
	gcc $(CFLAGS32) -c boot/multiboot.S -o $(BUILD)/multiboot.o
	gcc $(CFLAGS32) -c boot/loader.c -o $(BUILD)/loader.o
	ld -m elf_i386 -z noexecstack --no-warn-rwx-segments -T boot/link.ld \
		-o $@ $(BUILD)/multiboot.o $(BUILD)/loader.o

# go build is incremental; always ask it.
$(BUILD)/kernel.elf: FORCE | $(BUILD)
	$(GOENV) $(GO) build -o $@ -ldflags "$(LDFLAGS)" ./kernel

# User programs (user/*.c) are built static with musl-gcc into the root
# file system's /bin; Debian's busybox-static joins them with its applets
# as links. The initramfs packs initramfs/ and build/rootfs together.
USER_CC     ?= musl-gcc
USER_CFLAGS ?= -static -O2 -g -Wall -Werror
USER_SRCS   := $(wildcard user/*.c)
USER_PROGS  := $(patsubst user/%.c,$(BUILD)/rootfs/bin/%,$(USER_SRCS))
BUSYBOX     ?= /bin/busybox

$(BUILD)/rootfs/bin/%: user/%.c user/*.h | $(BUILD)
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -o $@ $<

$(BUILD)/rootfs/bin/busybox: $(BUSYBOX) scripts/busybox-links.sh | $(BUILD)
	@mkdir -p $(@D)
	scripts/busybox-links.sh $(BUSYBOX) $(BUILD)/rootfs

# user/menu: MenuOS in C, several files. Frame pointers and no tail calls
# keep every C frame on the stack for the gdb lab's backtraces (main calls
# ExecuteMenu last; as a jump, main would vanish from `bt`).
$(BUILD)/rootfs/bin/menu: user/menu/*.c user/menu/*.h Makefile | $(BUILD)
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -fno-omit-frame-pointer -fno-optimize-sibling-calls -o $@ user/menu/*.c

# The tracer reads the Linux map at run time (docs/tracing.md).
$(BUILD)/rootfs/boot/linux-map.md: docs/linux-map.md | $(BUILD)
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/initramfs.cpio: $(USER_PROGS) $(BUILD)/rootfs/bin/menu $(BUILD)/rootfs/bin/busybox $(BUILD)/rootfs/boot/linux-map.md FORCE | $(BUILD)
	$(GO) run ./fs/cmd/mkinitramfs -o $@ initramfs $(BUILD)/rootfs

# make run: virtio-net on QEMU user networking, host 127.0.0.1:5001 (or the
# free port run.sh prints; HOSTFWD_PORT= to choose) → guest 5001 (after
# `replyhi` in the guest: printf hello | nc -N 127.0.0.1 5001).
run: deps image
	@qemu/run.sh run

# make run-tap: the guest (10.0.3.2) on a tap inside network namespace
# gomenuos, whose side (10.0.3.1) is a real Linux peer:
#   ip netns exec gomenuos sh -c 'printf hello | nc -N 10.0.3.2 5001'
run-tap: deps image
	@qemu/netns.sh up
	@ip netns exec gomenuos env NET=tap:gmtap0 CMDLINE="ip=10.0.3.2/24 gw=10.0.3.1 $(CMDLINE)" qemu/run.sh run

# make debug: the guest of make run with its CPU stopped and QEMU's gdb stub
# on 127.0.0.1:1234 (or the free port run.sh prints; GDB_PORT= to choose);
# make gdb attaches to it (run.sh keeps the port in $(BUILD)/gdb.port).
debug: deps image
	@qemu/run.sh debug

gdb: deps
	@qemu/run.sh gdb

# make lab: the gdb TCP lab unattended (docs/gdb-lab.md); make lab-c: the
# same on the C MenuOS (user/menu as init), system calls and processes too.
lab: deps image ; $(GO) run ./qemu/lab/cmd/lab -build $(BUILD) -pictures $(BUILD)/lab
lab-c: deps image ; $(GO) run ./qemu/lab/cmd/lab -build $(BUILD) -menu c

# make trace: boot, place probes (PROBES: a file of SystemTap-style specs;
# SPEC: one more on the command line), run SCRIPT's shell commands, print
# the trace and draw each TCP connection and the context switches as SVG
# in $(BUILD)/trace (docs/tracing.md).
PROBES ?= qemu/ktrace/socket.stp
SCRIPT ?= menu; replyhi; hello; quit
trace: deps image
	$(GO) run ./qemu/ktrace/cmd/trace -build $(BUILD) -f $(PROBES) $(if $(SPEC),-e '$(SPEC)') -c "$(SCRIPT)" -o $(BUILD)/trace

# The host tools the build, the tests and the README's commands use, on a
# fresh Debian machine (QEMU, gdb, gcc, musl-gcc for user/, busybox-static
# for the root file system, nc, ping, ip, tcpdump): one apt-get for
# whatever is missing, nothing when all are there.
deps:
	@BUSYBOX=$(BUSYBOX) scripts/deps.sh

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...  -skip 'TestQEMU'

integration: deps image
	$(GO) test -count=1 -timeout 30m -v -run 'TestQEMU' ./qemu/...

test: deps image
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...
	scripts/fuzz.sh $(FUZZTIME)

# Every fuzz target for FUZZTIME seconds (make test uses 3).
FUZZTIME ?= 3
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# make bench: host benchmarks, then the guest figures beside the Linux
# peer's (qemu/linuxpeer, built into $(BUILD)/linux), alternating.
bench: deps image
	$(GO) test -run '^$$' -bench . ./... 2>&1 | grep -v '^ok\|^PASS\|no test files'
	$(GO) run ./qemu/bench

# make profile: CPU profiles of bulk TCP each way and a heap profile, taken
# by the guest's own runtime/pprof, in $(PROFILE)/ as .pprof, .svg and .top.
PROFILE ?= $(BUILD)/profile
profile: deps image
	@command -v dot >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends graphviz; }
	$(GO) run ./qemu/bench -profile $(PROFILE)

generate:
	$(GO) generate ./arch/x86

clean:
	rm -rf $(BUILD)
