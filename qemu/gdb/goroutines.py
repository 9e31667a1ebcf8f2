# goroutines.py: Go's runtime-gdb.py (which gdb auto-loads with the kernel
# ELF) made to fit a kernel that hosts the runtime. gomenuos.gdb sources it.
#
# 1. runtime-gdb.py's pretty printers raise gdb.error on a value the
#    compiler optimized out, so `bt` printed
#      args=Python Exception <class 'gdb.error'>: value has been optimized out
#    for a slice argument. Every printer they return is wrapped here so
#    that such a value prints as <optimized out>.
#
# 2. runtime-gdb.py's `info goroutines` puts its `*` on every goroutine
#    that has an M and shows where each goroutine last parked (g.sched.pc),
#    which for a running goroutine is stale (the shell's goroutine showed
#    runtime.gopark while gdb had stopped it in the dispatcher). Here the
#    kernel's own tables say where each running goroutine is:
#      - on the CPU: the g at -8(FS) (Go's TLS slot) of the stopped context,
#        at $pc; marked `*`. If that g is an M's g0 (the runtime's system
#        stack), its curg is the goroutine marked, still at $pc. When gdb
#        stopped in the kernel's trap context (FS points at the fake g of
#        gomenuos/kernel/linux), the goroutine is the one the trap
#        interrupted, at the RIP of the trap frame x86.trapDispatch got.
#      - switched out by the kernel's scheduler: the g at -8(FS) of that
#        thread's saved frame in gomenuos/sched.Table, at its saved RIP.
#    Everything else is where g.sched says, as before. `goroutine N CMD`
#    runs CMD with $pc/$sp (and $rbp) set to the same place.

import struct

import gdb


def _const(name, default):
    try:
        return int(gdb.parse_and_eval("'runtime.%s'" % name))
    except gdb.error:
        return default


G_RUNNING = _const("_Grunning", 2)
G_SYSCALL = _const("_Gsyscall", 3)
G_DEAD = _const("_Gdead", 6)
G_DEADEXTRA = _const("_Gdeadextra", 10)
G_SCAN = _const("_Gscan", 0x1000)
STATUS = {
    _const("_Gidle", 0): "idle",
    _const("_Grunnable", 1): "runnable",
    G_RUNNING: "running",
    G_SYSCALL: "syscall",
    _const("_Gwaiting", 4): "waiting",
    G_DEAD: "dead",
    _const("_Gcopystack", 8): "copystack",
    _const("_Gpreempted", 9): "preempted",
}

# --- 1. printers that survive optimized-out values -------------------------

OPTIMIZED_OUT = "<optimized out>"


def _safe_printer(inner):
    """A printer with inner's methods, each turning gdb.error into
    <optimized out> (to_string) or an end of the children."""

    class Safe(object):
        pass

    if hasattr(inner, "to_string"):

        def to_string(self):
            try:
                return inner.to_string()
            except gdb.error:
                return OPTIMIZED_OUT

        Safe.to_string = to_string
    if hasattr(inner, "children"):

        def children(self):
            try:
                for child in inner.children():
                    yield child
            except gdb.error:
                return

        Safe.children = children
    if hasattr(inner, "display_hint"):
        Safe.display_hint = lambda self: inner.display_hint()
    return Safe()


def _safe_lookup(lookup):
    def safe(val):
        printer = lookup(val)
        if printer is None:
            return None
        # A struct (string, slice, interface) whose pieces are gone reads
        # as optimized out only when a piece is touched: touch them all.
        try:
            fields = val.type.strip_typedefs().fields()
        except TypeError:  # not a struct
            fields = []
        try:
            if val.is_optimized_out:
                return _Constant(OPTIMIZED_OUT)
            for field in fields:
                if field.name:
                    val[field.name].fetch_lazy()
        except gdb.error:
            return _Constant(OPTIMIZED_OUT)
        return _safe_printer(printer)

    safe.gomenuos_safe = True
    return safe


class _Constant(object):
    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text


def wrap_printers(objfile):
    objfile.pretty_printers[:] = [
        p if getattr(p, "gomenuos_safe", False) or not callable(p) else _safe_lookup(p)
        for p in objfile.pretty_printers
    ]


for _objfile in gdb.objfiles():
    wrap_printers(_objfile)
gdb.events.new_objfile.connect(lambda event: wrap_printers(event.new_objfile))

# --- 2. where running goroutines really are --------------------------------


MASK64 = (1 << 64) - 1


def _addr(value):
    """An address as an unsigned integer (gdb hands registers such as
    $fs_base over as signed longs, negative in the kernel's upper half)."""
    return int(value) & MASK64


def _u64(addr):
    return struct.unpack("<Q", bytes(gdb.selected_inferior().read_memory(addr, 8)))[0]


def _allgs():
    allgs = gdb.parse_and_eval("'runtime.allgs'")
    arr, n = allgs["array"], int(allgs["len"])
    for i in range(n):
        g = arr[i]
        status = int(g["atomicstatus"]["value"]) & ~G_SCAN
        if status not in (G_DEAD, G_DEADEXTRA):
            yield g, status


def _g_in_tls(fs_base):
    """The g pointer in Go's TLS slot of a context whose FS base is fs_base."""
    if fs_base < 8:
        return 0
    try:
        return _u64(fs_base - 8)
    except gdb.MemoryError:
        return 0


def _curg(gp):
    """gp itself, or, when gp is an M's g0 (system stack), that M's curg."""
    try:
        g = gdb.Value(gp).cast(gdb.lookup_type("runtime.g").pointer()).dereference()
        m = g["m"]
        if _addr(m) != 0 and _addr(m["g0"]) == gp and _addr(m["curg"]) != 0:
            return _addr(m["curg"])
    except gdb.error:
        pass
    return gp


def running_places():
    """Maps g address -> (pc, sp, bp, where) for goroutines on the CPU or on
    a thread the kernel switched out, and returns the g on the CPU (0 when
    gdb stopped in the kernel's trap context)."""
    places = {}
    on_cpu = 0
    fake = _addr(gdb.parse_and_eval("&'gomenuos/kernel/linux.fakeG'"))
    live = _g_in_tls(_addr(gdb.parse_and_eval("$fs_base")))
    current = int(gdb.parse_and_eval("'gomenuos/sched.Current'"))
    if live not in (0, fake):
        on_cpu = _curg(live)
        places[on_cpu] = (_addr(gdb.parse_and_eval("$pc")), _addr(gdb.parse_and_eval("$sp")),
                          _addr(gdb.parse_and_eval("$rbp")), "on the CPU")
    elif live == fake:
        f = _interrupted_frame()
        gp = _g_in_tls(_addr(f["FSBase"])) if f is not None else 0
        if gp not in (0, fake):
            on_cpu = _curg(gp)
            places[on_cpu] = (_addr(f["RIP"]), _addr(f["RSP"]), _addr(f["RBP"]), "on the CPU, in a trap")
    table = gdb.parse_and_eval("'gomenuos/sched.Table'")
    lo, hi = table.type.range()
    for i in range(lo, hi + 1):
        t = table[i]
        if int(t["State"]) == 0 or (i == current and on_cpu):  # free, or live above
            continue
        f = t["Frame"]
        gp = _g_in_tls(_addr(f["FSBase"]))
        if gp in (0, fake):
            continue
        gp = _curg(gp)
        if gp not in places:
            places[gp] = (_addr(f["RIP"]), _addr(f["RSP"]), _addr(f["RBP"]),
                          "thread %d, switched out" % int(t["TID"]))
    # A user process's thread has its own TLS at -8(FS): keep real gs only.
    gs = set(_addr(g) for g, _ in _allgs())
    places = dict((gp, p) for gp, p in places.items() if gp in gs)
    return places, (on_cpu if on_cpu in gs else 0)


def _interrupted_frame():
    """In trap context: the trap frame (x86.TrapFrame) of the context the
    outermost trap interrupted, read from x86.trapDispatch's argument."""
    tf = None
    frame = gdb.newest_frame()
    while frame is not None:
        if frame.name() == "gomenuos/arch/x86.trapDispatch":
            try:
                tf = frame.read_var("tf").dereference()
            except (gdb.error, ValueError):
                pass
        frame = frame.older()
    return tf


def _function(pc):
    block = gdb.block_for_pc(pc)
    while block is not None and block.function is None:
        block = block.superblock
    return block.function if block is not None else "?? (%#x)" % pc


class InfoGoroutines(gdb.Command):
    """List the goroutines: * marks the one on the CPU; a running goroutine
    shows where it runs (on the CPU, or where the kernel switched its thread
    out), every other one where it parked."""

    def __init__(self):
        super(InfoGoroutines, self).__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, _arg, _from_tty):
        places, on_cpu = running_places()
        if not on_cpu:
            print("(no goroutine is on the CPU: it is idle, in early boot, or running a user process)")
        for g, status in _allgs():
            gp = _addr(g)
            mark = "*" if gp == on_cpu else " "
            place = places.get(gp)
            pc = place[0] if place else _addr(g["sched"]["pc"])
            line = "%s %d %-8s %s" % (mark, int(g["goid"]), STATUS.get(status, "unknown(%d)" % status), _function(pc))
            if place and gp != on_cpu:
                line += "  [%s]" % place[3]
            print(line)


class Goroutine(gdb.Command):
    """goroutine N CMD: run gdb command CMD (e.g. bt) in goroutine N's
    context: where it runs if it is running (see info goroutines), else where
    it parked. `goroutine all CMD` does it for every goroutine."""

    def __init__(self):
        super(Goroutine, self).__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, _from_tty):
        which, cmd = arg.split(None, 1)
        places, on_cpu = running_places()
        for g, status in _allgs():
            if which != "all" and int(g["goid"]) != int(gdb.parse_and_eval(which)):
                continue
            gp = _addr(g)
            if gp == on_cpu and places[gp][3] == "on the CPU":  # the live registers are its own
                gdb.execute("select-frame 0")
                gdb.execute(cmd)
                continue
            if gp in places:
                pc, sp, bp, _ = places[gp]
            elif status == G_SYSCALL and _addr(g["syscallsp"]) != 0:
                pc, sp, bp = _addr(g["syscallpc"]), _addr(g["syscallsp"]), _addr(g["sched"]["bp"])
            else:
                pc, sp, bp = _addr(g["sched"]["pc"]), _addr(g["sched"]["sp"]), _addr(g["sched"]["bp"])
            _with_registers(pc, sp, bp, cmd)


def _with_registers(pc, sp, bp, cmd):
    """Runs cmd with frame 0's $pc, $sp and $rbp set, then restores them
    (gdb only lets frame 0's registers be assigned)."""
    gdb.execute("select-frame 0")
    saved = [_addr(gdb.parse_and_eval(r)) for r in ("$pc", "$sp", "$rbp")]
    try:
        for reg, v in zip(("$pc", "$sp", "$rbp"), (pc, sp, bp)):
            gdb.parse_and_eval("%s = 0x%x" % (reg, v))
        gdb.execute(cmd)
    finally:
        gdb.execute("select-frame 0")
        for reg, v in zip(("$pc", "$sp", "$rbp"), saved):
            gdb.parse_and_eval("%s = 0x%x" % (reg, v))


InfoGoroutines()
Goroutine()
