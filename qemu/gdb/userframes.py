# userframes.py: user processes as gdb sees them from inside the kernel.
# gomenuos.gdb sources it; tcplab.py sources it when loaded alone (make
# lab-c's batch gdb). See docs/gdb-lab.md, "The lab on the C program".
#
# 1. Which process a stop is for. A user thread is a goroutine locked to
#    one kernel thread (sched.Table[i]); proc.Thread.ktid names that kernel
#    thread. So the process of the code on the CPU is the one whose thread
#    has ktid == sched.Table[sched.Current].TID, found by walking the
#    process tree from proc.table.init (orphans are re-parented to init, so
#    every process is below it). `info user` prints it; tcplab.py tags each
#    hit with it.
#
# 2. The user's frames below the kernel's. While the kernel serves a system
#    call, the thread's goroutine is in proc.(*Thread).run (run → handleExit
#    → doSyscall64 → sysXxx → ...), and the registers the user had at its
#    SYSCALL are in thread.ctx.Regs (an x86.TrapFrame). Two unwinders:
#      - RunFrameUnwinder claims the frame of (*Thread).run and says its
#        caller is the user's context: rip, rsp, rbp and the rest from
#        ctx.Regs. The thread is the one whose *Thread the run frame holds
#        (its receiver, spilled by run's prologue); gdb then unwinds on in
#        user memory, readable because the process's page tables are
#        loaded (mirrored in the CPU root) while the kernel works for it;
#      - UserUnwinder unwinds every user frame: by the program's call-frame
#        tables (readelf -wF of the binary user-symbols loads) or, for
#        functions without any (musl builds its C library without unwind
#        tables or frame pointers: accept, __syscall_cp_c, ...), by
#        reading the function's instructions from its start to the pc and
#        adding up what they did to %rsp. It ends the backtrace after main.
#    With the user binary's symbols loaded (`user-symbols`, i.e.
#    add-symbol-file build/rootfs/bin/menu), `bt` in the kernel shows
#    ... sysAccept4 → doSyscall64 → run, then __syscall_cp_c → accept →
#    serve → Replyhi → ExecuteMenu → main.
#
#    gdb refuses a caller whose stack address is below its callee's
#    ("previous frame inner to this frame"): user stacks (0x7ff...) are
#    below the kernel's goroutine stacks (0xffffc9...). So the user frames
#    of such a backtrace get frame IDs moved above the kernel's (USER_IDS),
#    which is also why the program's frames are not left to gdb's own DWARF
#    unwinder.
#
# 3. `user-context CMD` runs a command with frame 0's registers set to the
#    user's saved ones (then restored): `user-context bt full` is the
#    program's own backtrace, with its locals (see USER_IDS for why the
#    combined bt cannot show those).

import os
import re
import struct
import subprocess

import gdb

try:
    from gdb.unwinder import Unwinder
except ImportError:  # very old gdb: no Python unwinders
    Unwinder = None

MASK64 = (1 << 64) - 1
USER_TOP = 1 << 47  # user addresses are below the canonical hole

RUN = "gomenuos/kernel/proc.(*Thread).run"

# The user registers gdb gets for the caller of (*Thread).run, by their
# x86.TrapFrame field.
USER_REGS = [("rip", "RIP"), ("rsp", "RSP"), ("rbp", "RBP"), ("rbx", "RBX"), ("r12", "R12"),
             ("r13", "R13"), ("r14", "R14"), ("r15", "R15"), ("rax", "RAX"), ("rcx", "RCX"),
             ("rdx", "RDX"), ("rsi", "RSI"), ("rdi", "RDI"), ("r8", "R8"), ("r9", "R9"),
             ("r10", "R10"), ("r11", "R11"), ("eflags", "RFLAGS")]


def _u(v):
    return int(v) & MASK64


def _global(name):
    """A package variable, read without a frame (unwinders have none)."""
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is None:
        raise gdb.error("no symbol %s" % name)
    return sym.value()


def _gostring(v):
    n = int(v["len"])
    if n <= 0:
        return ""
    return gdb.selected_inferior().read_memory(int(v["str"]), min(n, 64)).tobytes().decode(errors="replace")


def _slice(v):
    arr, n = v["array"], int(v["len"])
    return [arr[i] for i in range(n)]


class UserThread(object):
    """One user thread: its *proc.Thread, process and saved registers."""

    def __init__(self, thread, proc):
        self.addr = _u(thread)
        self.thread = thread.dereference()
        self.pid = int(proc["PID"])
        self.comm = _gostring(proc["comm"])
        self.tid = int(self.thread["TID"])

    def ktid(self):
        return int(self.thread["ktid"]["v"])

    def ctx(self):
        return self.thread["ctx"].dereference()

    def label(self):
        """comm[pid], as Linux's kernel messages name a process."""
        return "%s[%d]" % (self.comm, self.pid)


def user_threads():
    """Every user thread, walking the process tree from init."""
    out = []
    try:
        init = _global("gomenuos/kernel/proc.table")["init"]
    except gdb.error:
        return out
    todo, seen = [init], set()
    while todo:
        p = todo.pop()
        a = _u(p)
        if a == 0 or a in seen or len(seen) > 1024:
            continue
        seen.add(a)
        proc = p.dereference()
        for th in _slice(proc["threads"]):
            if _u(th) != 0:
                out.append(UserThread(th, proc))
        todo.extend(_slice(proc["children"]))
    return out


def current_kernel_tid():
    table = _global("gomenuos/sched.Table")
    return int(table[int(_global("gomenuos/sched.Current"))]["TID"])


def current_user_thread():
    """The user thread whose goroutine is on the CPU, or None (a kernel
    goroutine, the idle loop, trap context)."""
    try:
        ktid = current_kernel_tid()
        for ut in user_threads():
            if ut.ktid() == ktid:
                return ut
    except (gdb.error, gdb.MemoryError):
        pass
    return None


def loaded_cr3(pending):
    """The process page-table root whose user half the CPU runs with: the
    kernel's x86.mirrored (arch/x86/tlb.go: CR3 holds the CPU's own root,
    whose lower half mirrors that tree's), else QEMU's cr3 register, or
    None when neither can be read."""
    try:
        v = _u(gdb.parse_and_eval("'gomenuos/arch/x86.mirrored'"))
        if v:
            return v & ~0xfff
    except (gdb.error, ValueError):
        pass
    try:
        return _u(pending.read_register("cr3")) & ~0xfff
    except (gdb.error, ValueError):
        return None


# --- the unwinders ----------------------------------------------------------


class FrameId(object):
    """A frame ID for gdb: the frame's stack address and function."""

    def __init__(self, sp, pc):
        # gdb 13 takes gdb.Values here, not Python ints.
        self.sp, self.pc = gdb.Value(sp), gdb.Value(pc)


# gdb stops a backtrace whose caller's stack address is below its
# callee's ("previous frame inner to this frame (corrupt stack?)"), as it
# would be from a kernel goroutine stack (0xffffc9...) down to a user
# stack (0x7fff...). So in a backtrace that starts in the kernel, every
# user frame gets, as its ID's stack address, its CFA mapped above the
# kernel's stacks, in the same order: USER_IDS + CFA/4 (CFAs are 8-aligned
# and below 2^47, so this stays one-to-one and below 2^64). The registers
# gdb shows are real; but gdb also takes a frame's CFA for its locals
# (DW_OP_call_frame_cfa) from the ID, so the program's stack variables
# read wrong there: `user-context bt full` shows them from a backtrace
# that starts in user mode, where the IDs are the real CFAs.
USER_IDS = 0xffffd00000000000

# Whether the frames being unwound started in user mode (frame 0 at a user
# pc, as under user-context): set when gdb sniffs frame 0, which it does
# first after every change of registers.
FROM_USER = [False]


def user_frame_id(cfa, func):
    if FROM_USER[0]:
        return FrameId(cfa, func)
    return FrameId(USER_IDS + (cfa >> 2), func)


def _function_range(name, cache={}):
    """[start, end) of a kernel function; None (not cached: the kernel's
    symbols may come later) when gdb does not know it."""
    if name not in cache:
        try:
            sym = gdb.lookup_global_symbol(name)
            start = _u(sym.value().address)
            block = gdb.block_for_pc(start)
            while block is not None and block.function is None:
                block = block.superblock
            if block is None:
                return None
            cache[name] = (block.start, block.end)
        except (gdb.error, AttributeError, RuntimeError):
            return None
    return cache[name]


DEBUG = bool(os.environ.get("GOMENUOS_UNWIND_DEBUG"))


def _debug(msg):
    if DEBUG:
        print("userframes: " + msg)


def _level(pending):
    try:
        return pending.level()
    except AttributeError:  # gdb before 11
        return 1


def _reg_value(pending, name, v):
    """v as a value of register name's type (a code pointer for rip, a
    flags type for eflags: gdb will not cast an integer to those)."""
    t = pending.read_register(name).type
    return gdb.Value(struct.pack("<Q", v & MASK64)[:t.sizeof], t)


def _read_u64(addr):
    return int.from_bytes(gdb.selected_inferior().read_memory(addr, 8).tobytes(), "little")


# Resume addresses that came from a trap frame rather than a call: the
# user's code is at that very instruction, so its line is looked up at
# pc, not pc-1 (gdb does the same for a frame below a signal frame).
TRAP_PCS = set()


class RunFrameUnwinder(Unwinder if Unwinder else object):
    """proc.(*Thread).run's caller is the user's context at its trap."""

    def __init__(self):
        super(RunFrameUnwinder, self).__init__("gomenuos-user-entry")

    def __call__(self, pending):
        rng = _function_range(RUN)
        if rng is None:
            return None
        pc = _u(pending.read_register("rip"))
        if not (rng[0] <= pc < rng[1]) or _level(pending) == 0:
            return None
        try:
            frame_size, spill = _run_prologue(pending.architecture(), rng[0])
            if frame_size is None:
                return None
            rsp = _u(pending.read_register("rsp"))
            cfa = rsp + frame_size + 16  # above the frame: saved rbp, return address
            ut = thread_at(rsp + spill if spill is not None else None, rsp, cfa + 8)
            if ut is None:
                _debug("run frame at %#x: no user thread" % rsp)
                return None
            ctx = ut.ctx()
            cr3 = loaded_cr3(pending)
            if cr3 is not None and cr3 != _u(ctx["CR3"]) & ~0xfff:
                # Another process's memory is mapped (`goroutine N bt` of
                # a thread that is not on the CPU): its stack cannot be
                # read from here, so the backtrace ends at run.
                _debug("%s: not the loaded address space" % ut.label())
                return None
            regs = ctx["Regs"]
            info = pending.create_unwind_info(FrameId(cfa, rng[0]))
            for reg, field in USER_REGS:
                info.add_saved_register(reg, _reg_value(pending, reg, _u(regs[field])))
            TRAP_PCS.add(_u(regs["RIP"]))
            return info
        except (gdb.error, gdb.MemoryError, ValueError) as e:
            _debug("run frame: %r" % e)
            return None


def _run_prologue(arch, start, cache={}):
    """(*Thread).run's frame size and where it spills its receiver (from
    %rax, Go's first argument register), as offsets from %rsp after the
    prologue: (size, spill), spill None when not found. Go's amd64
    prologue is: stack check, push %rbp, mov %rsp,%rbp, sub $size,%rsp."""
    if start not in cache:
        size, spill = None, None
        for insn in arch.disassemble(start, count=12):
            asm = " ".join(insn["asm"].split())
            m = SUB_RSP.match(asm)
            if m and size is None:
                size = int(m.group(1), 0)
                continue
            m = re.match(r"^mov\s+%rax,(0x[0-9a-f]+)\(%rsp\)$", asm)
            if m and size is not None:
                spill = int(m.group(1), 0)
                break
            if asm.startswith("call"):
                break
        cache[start] = (size, spill)
    return cache[start]


def thread_at(slot, lo, hi):
    """The user thread whose *proc.Thread the run frame holds: the word at
    slot (its receiver's spill slot), else any word in [lo, hi)."""
    threads = user_threads()
    if not threads:
        return None
    if slot is not None:
        t = _read_u64(slot)
        for ut in threads:
            if ut.addr == t:
                return ut
    if hi <= lo or hi - lo > 4096:
        return None
    words = gdb.selected_inferior().read_memory(lo, hi - lo).tobytes()
    stored = set(int.from_bytes(words[i:i + 8], "little") for i in range(0, len(words) - 7, 8))
    for ut in threads:
        if ut.addr in stored:
            return ut
    return None


# --- user frames: the program's unwind tables, else its instructions ----------

# The call-frame tables of the loaded user program (user-symbols), as
# readelf -wF prints them (.eh_frame and .debug_frame interpreted into
# rows): [(lo, hi, [(loc, cfa_reg, cfa_off, {reg: cfa_offset})])], sorted.
CFI = []

CFI_ENTRY = re.compile(r"^[0-9a-f]+ [0-9a-f]+ ([0-9a-f]+) (CIE|FDE)(?: cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+))?")
CFI_CFA = re.compile(r"^(r[a-z0-9]+)([+-]\d+)$")
CFI_SAVED = re.compile(r"^c([+-]\d+)$")


def load_cfi(path):
    """Reads path's call-frame information with readelf (binutils)."""
    try:
        out = subprocess.run(["readelf", "-wF", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        print("user-symbols: readelf -wF %s: %s (user frames without unwind tables only)" % (path, e))
        return []
    cies, fdes, cur, cols = {}, [], None, None
    for line in out.splitlines():
        m = CFI_ENTRY.match(line)
        if m:
            cols = None
            if m.group(2) == "CIE":
                cur = cies.setdefault(line.split()[0], [])
            else:
                cur = []
                fdes.append((int(m.group(4), 16), int(m.group(5), 16), cur, cies.get(m.group(3), [])))
            continue
        f = line.split()
        if not f or cur is None:
            continue
        if f[0] == "LOC":
            cols = f[1:]
            continue
        if cols is None or len(f) != len(cols) + 1 or not re.match(r"^[0-9a-f]{8,}$", f[0]):
            continue
        m = CFI_CFA.match(f[1])
        saved = {}
        for reg, v in zip(cols[1:], f[2:]):
            c = CFI_SAVED.match(v)
            if c:
                saved[reg] = int(c.group(1))
        cur.append((int(f[0], 16), m.group(1) if m else None, int(m.group(2)) if m else 0, saved))
    table = []
    for lo, hi, rows, cie in fdes:
        if not rows:  # no instructions of its own: the CIE's initial rule
            rows = [(lo, r[1], r[2], r[3]) for r in cie[:1]]
        if rows:
            table.append((lo, hi, rows))
    table.sort()
    return table


def cfi_row(pc):
    for lo, hi, rows in CFI:
        if lo <= pc < hi:
            best = None
            for row in rows:
                if row[0] <= pc:
                    best = row
            return lo, best
    return None, None


# x86-64 stack adjustments of small functions, as gdb's disassembler prints
# them (AT&T syntax).
SUB_RSP = re.compile(r"^sub\s+\$(0x[0-9a-f]+|\d+),%rsp$")
ADD_RSP = re.compile(r"^add\s+\$(0x[0-9a-f]+|\d+),%rsp$")
PUSH = re.compile(r"^push\S*\s+(\S+)$")
POP = re.compile(r"^pop\S*\s+(\S+)$")
FRAME_SETUP = re.compile(r"^mov\s+%rsp,%rbp$")


def _function_start(pc):
    """(name, start) of the function holding pc, from its (minimal) symbol."""
    try:
        s = gdb.format_address(pc)  # "0x4024f2 <accept+34>"
        m = re.search(r"<([^+>]+)(\+(\d+))?>", s)
        if not m:
            return None, None
        return m.group(1), pc - int(m.group(3) or 0)
    except AttributeError:  # gdb before 13
        s = gdb.execute("info symbol %#x" % pc, to_string=True)  # "accept + 34 in section .text"
        m = re.match(r"^(\S+)(?: \+ (\d+))? in section", s)
        if not m:
            return None, None
        return m.group(1), pc - int(m.group(2) or 0)


def analyze(arch, start, pc):
    """The frame rule at pc of a function without unwind tables (musl's
    C library is built without them), from its instructions start..pc:
    (cfa_reg, cfa_off, {reg: cfa_offset}) like a CFI row, or None when
    an instruction changes %rsp in a way this does not follow."""
    if pc < start or pc - start > 4096:
        return None
    off, saved, rbp_at = 0, {}, None  # off: bytes pushed below the return address
    if pc > start:
        for insn in arch.disassemble(start, pc - 1):
            asm = " ".join(insn["asm"].split())
            if rbp_at is None and FRAME_SETUP.match(asm):
                rbp_at = off
                continue
            m = SUB_RSP.match(asm) or ADD_RSP.match(asm)
            if m:
                off += int(m.group(1), 0) * (1 if asm.startswith("sub") else -1)
                continue
            m = PUSH.match(asm)
            if m:
                off += 8
                reg = m.group(1).lstrip("%")
                if re.match(r"^r(bx|bp|1[2-5])$", reg) and reg not in saved:
                    saved[reg] = -8 - off
                continue
            if POP.match(asm):
                off -= 8
                continue
            if rbp_at is None and "%rsp" in asm.split(",")[-1] and not asm.startswith(("cmp", "test")):
                return None  # another write to %rsp (lea, and, mov)
    if rbp_at is not None:
        return "rbp", rbp_at + 8, saved
    if off < 0:
        return None
    return "rsp", off + 8, saved


class UserUnwinder(Unwinder if Unwinder else object):
    """Every user frame: with the program's unwind tables (its own
    functions, built with -g) or, without them (the C library), from its
    instructions. Gives each frame a user frame ID (see USER_IDS)."""

    def __init__(self):
        super(UserUnwinder, self).__init__("gomenuos-user-frames")

    def __call__(self, pending):
        try:
            pc = _u(pending.read_register("rip"))
            if _level(pending) == 0:
                FROM_USER[0] = pc < USER_TOP
            if pc >= USER_TOP:
                return None
            if pc == 0:
                return self.end(pending, 0)
            look = pc if pc in TRAP_PCS or _level(pending) == 0 else pc - 1
            start, row = cfi_row(look)
            if row is not None and row[1] is not None:
                rule = row[1], row[2], row[3]
            else:
                name, start = _function_start(look)
                if start is None:
                    # No symbols for the program (user-symbols not run, or
                    # another program): show where it is and end there.
                    _debug("no symbol at %#x" % pc)
                    return self.end(pending, pc)
                rule = analyze(pending.architecture(), start, pc)
                if rule is None:
                    _debug("cannot follow %s at %#x" % (name, pc))
                    return None
            cfa_reg, cfa_off, saved = rule
            cfa = _u(pending.read_register(cfa_reg)) + cfa_off
            name, _ = _function_start(look)
            info = pending.create_unwind_info(user_frame_id(cfa, start))
            # The program's main is where a user backtrace ends, as gdb's
            # own does (the C library's start-up code is below it).
            ret = 0 if name == "main" else _read_u64(cfa - 8)
            info.add_saved_register("rip", _reg_value(pending, "rip", ret))
            info.add_saved_register("rsp", _reg_value(pending, "rsp", cfa))
            for reg in ("rbp", "rbx", "r12", "r13", "r14", "r15"):
                if reg in saved:
                    info.add_saved_register(reg, _reg_value(pending, reg, _read_u64(cfa + saved[reg])))
                else:
                    info.add_saved_register(reg, pending.read_register(reg))
            return info
        except (gdb.error, gdb.MemoryError, ValueError, RuntimeError) as e:
            _debug("user frame: %r" % e)
            return None


    @staticmethod
    def end(pending, pc):
        """A last user frame (the one after main, pc 0; or one without
        symbols), in the user's frame-ID space, whose caller is pc 0: gdb
        ends the backtrace there without calling the stack corrupt."""
        rsp = _u(pending.read_register("rsp"))
        if rsp == 0 or rsp >= USER_TOP:
            return None
        info = pending.create_unwind_info(user_frame_id(rsp, pc))
        info.add_saved_register("rip", _reg_value(pending, "rip", 0))
        info.add_saved_register("rsp", _reg_value(pending, "rsp", rsp + 8))
        return info


def register_unwinders():
    if Unwinder is None:
        return
    import gdb.unwinder

    for u in (RunFrameUnwinder(), UserUnwinder()):
        gdb.unwinder.register_unwinder(None, u, replace=True)


register_unwinders()


# --- commands -----------------------------------------------------------------


def default_user_binary():
    """build/rootfs/bin/menu beside the kernel ELF gdb has loaded."""
    for objfile in gdb.objfiles():
        if objfile.filename.endswith("kernel.elf"):
            return os.path.join(os.path.dirname(objfile.filename), "rootfs", "bin", "menu")
    return "build/rootfs/bin/menu"


class UserSymbols(gdb.Command):
    """user-symbols [FILE]: load a user program's symbols at the addresses it
was linked for (a static non-PIE ELF, as user/ builds them; default:
build/rootfs/bin/menu beside the kernel ELF), so that `bt` in the kernel
names the user's frames: accept <- serve <- Replyhi <- ExecuteMenu <- main."""

    def __init__(self):
        super(UserSymbols, self).__init__("user-symbols", gdb.COMMAND_FILES, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        path = arg.strip() or default_user_binary()
        gdb.execute("add-symbol-file %s" % path, to_string=not from_tty)
        CFI[:] = load_cfi(path)
        gdb.invalidate_cached_frames()


class InfoUser(gdb.Command):
    """info user: the user process whose thread is on the CPU (the kernel
is working for it), with the registers it had when it entered the kernel."""

    def __init__(self):
        super(InfoUser, self).__init__("info user", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        ut = current_user_thread()
        if ut is None:
            print("no user thread on the CPU: a kernel goroutine runs")
            return
        regs = ut.ctx()["Regs"]
        print("%s tid %d (kernel thread %d)" % (ut.label(), ut.tid, ut.ktid()))
        pc = _u(gdb.newest_frame().pc())
        if pc < USER_TOP:
            print("  running in user mode at rip %#x" % pc)
            return
        print("  entered the kernel at rip %#x rsp %#x rbp %#x, rax %d (vector %d)" % (
            _u(regs["RIP"]), _u(regs["RSP"]), _u(regs["RBP"]), _u(regs["RAX"]), _u(regs["Vector"])))


# The registers user-context loads into frame 0 (the callee-saved ones
# too: the program's unwind tables restore them frame by frame).
CONTEXT_REGS = [("rip", "RIP"), ("rsp", "RSP"), ("rbp", "RBP"), ("rbx", "RBX"), ("r12", "R12"),
                ("r13", "R13"), ("r14", "R14"), ("r15", "R15")]


class UserContext(gdb.Command):
    """user-context [COMMAND]: run a gdb command (default: bt full) in the
user program's own context: frame 0's registers are set to those the
process had when it entered the kernel, then put back. The backtrace then
starts in user mode, so the program's locals read right: user-context bt
full, user-context info frame, user-context x/4i $pc."""

    def __init__(self):
        super(UserContext, self).__init__("user-context", gdb.COMMAND_STACK, gdb.COMPLETE_COMMAND)

    def invoke(self, arg, from_tty):
        ut = current_user_thread()
        if ut is None:
            raise gdb.GdbError("user-context: no user thread on the CPU (a kernel goroutine runs)")
        ctx = ut.ctx()
        gdb.execute("select-frame 0")
        if _u(gdb.selected_frame().pc()) < USER_TOP:
            gdb.execute(arg.strip() or "bt full", from_tty)  # already the user's own registers
            return
        cr3 = loaded_cr3(gdb.selected_frame())
        if cr3 is not None and cr3 != _u(ctx["CR3"]) & ~0xfff:
            raise gdb.GdbError("user-context: %s's page tables are not loaded" % ut.label())
        regs = ctx["Regs"]
        saved = [(r, _u(gdb.parse_and_eval("$" + r))) for r, _ in CONTEXT_REGS]
        TRAP_PCS.add(_u(regs["RIP"]))
        try:
            for r, field in CONTEXT_REGS:
                gdb.execute("set $%s = %#x" % (r, _u(regs[field])), to_string=True)
            gdb.execute(arg.strip() or "bt full", from_tty)
        finally:
            gdb.execute("select-frame 0")
            for r, v in saved:
                gdb.execute("set $%s = %#x" % (r, v), to_string=True)


UserSymbols()
InfoUser()
UserContext()
