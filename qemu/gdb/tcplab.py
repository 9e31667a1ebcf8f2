# tcplab.py: the TCP handshake lab's breakpoints for gdb, with the Linux
# function beside ours. gomenuos.gdb sources it; `make lab` (qemu/lab) loads
# it into a batch gdb. Commands:
#
#   tcp-lab-all    break (and stop) on every lab function; each stop prints
#                  "Linux name  ->  our function (file:line)  [segment]"
#   tcp-lab-trace  the same breakpoints, but they print and go on: one
#                  `continue` runs the whole exchange (what `make lab` does)
#   ... user       (tcp-lab-all user, tcp-lab-trace [json] user) the lab on
#                  the C MenuOS (init=/bin/menu): the system calls' own
#                  breakpoints too (USER_LAB), each hit tagged with the
#                  process it ran for (comm[pid]), and each command line
#                  the console hands to the program as a marker
#   tcp-lab-summary  hits per function so far
#   linux-break NAME break on our counterpart of a Linux function, by its
#                  Linux name (the table below, then docs/linux-map.md)
#
# The table is the single list of lab names; docs/linux-map.md's "gdb lab"
# section lists the same symbols and a test checks both against the ELF.

import json
import os
import re

import gdb

# userframes.py: which user process a hit is for (current_user_thread).
# gomenuos.gdb sources it first; a gdb that loads only this file gets it here.
if "current_user_thread" not in globals():
    gdb.execute("source " + os.path.join(os.path.dirname(os.path.abspath(__file__)), "userframes.py"))

# (Linux function, our function as gdb spells it). Per-segment functions are
# marked True: they fire on every segment, so the trace counts them after
# the first few.
LAB = [
    ("__sys_socket", "gomenuos/net/inet.(*Net).Socket", False),
    ("inet_create", "gomenuos/net/inet.(*Net).inetCreate", False),
    ("inet_bind", "gomenuos/net/inet.(*Socket).inetBind", False),
    ("inet_listen", "gomenuos/net/inet.(*Socket).inetListen", False),
    ("inet_csk_listen_start", "gomenuos/net/tcp.(*Sock).inetCskListenStartLocked", False),
    ("inet_csk_accept", "gomenuos/net/inet.(*Socket).inetCskAccept", False),
    ("inet_stream_connect", "gomenuos/net/inet.(*Socket).inetStreamConnect", False),
    ("tcp_v4_connect", "gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked", False),
    ("tcp_connect", "gomenuos/net/tcp.(*Sock).tcpConnectLocked", False),
    ("tcp_transmit_skb", "gomenuos/net/tcp.(*Sock).tcpTransmitSkbLocked", True),
    ("ip_queue_xmit", "gomenuos/net/stack.(*Stack).ipQueueXmit", True),
    ("tcp_v4_rcv", "gomenuos/net/tcp.(*Proto).tcpV4RcvLocked", True),
    ("tcp_v4_do_rcv", "gomenuos/net/tcp.(*Sock).tcpV4DoRcvLocked", True),
    ("tcp_rcv_state_process", "gomenuos/net/tcp.(*Sock).tcpRcvStateProcessLocked", True),
    ("tcp_v4_conn_request", "gomenuos/net/tcp.(*Sock).tcpV4ConnRequestLocked", False),
    ("tcp_v4_send_synack", "gomenuos/net/tcp.(*requestSock).tcpV4SendSynackLocked", False),
    ("tcp_rcv_synsent_state_process", "gomenuos/net/tcp.(*Sock).tcpRcvSynSentStateProcessLocked", False),
    ("tcp_check_req", "gomenuos/net/tcp.(*Sock).tcpCheckReqLocked", False),
    ("tcp_v4_syn_recv_sock", "gomenuos/net/tcp.(*Sock).tcpV4SynRecvSockLocked", False),
    ("tcp_child_process", "gomenuos/net/tcp.(*Sock).tcpChildProcessLocked", False),
    ("tcp_rcv_established", "gomenuos/net/tcp.(*Sock).tcpRcvEstablishedLocked", True),
    ("tcp_sendmsg", "gomenuos/net/tcp.(*Sock).tcpSendmsgLocked", False),
    ("tcp_recvmsg", "gomenuos/net/tcp.(*Sock).tcpRecvmsgLocked", False),
    ("tcp_close", "gomenuos/net/tcp.(*Sock).tcpCloseLocked", False),
]

# The system-call layer, for a user program (the C MenuOS) that makes the
# socket calls the Go shell makes inside the kernel: `tcp-lab-all user`,
# `make lab MENU=c`. inet_accept stays out of the Go shell's lab, whose
# accept goes through it too.
USER_LAB = [
    ("__sys_socket", "gomenuos/kernel/proc.(*Thread).sysSocket", False),
    ("__sys_bind", "gomenuos/kernel/proc.(*Thread).sysBind", False),
    ("__sys_listen", "gomenuos/kernel/proc.(*Thread).sysListen", False),
    ("__sys_accept4", "gomenuos/kernel/proc.(*Thread).sysAccept4", False),
    ("inet_accept", "gomenuos/net/inet.(*Socket).inetAccept", False),
    ("__sys_connect", "gomenuos/kernel/proc.(*Thread).sysConnect", False),
]

# Under a system call, (*Net).Socket is what __sys_socket calls:
# sock_create. (For the Go shell, which has no system call, it is the lab's
# __sys_socket.)
USER_NAMES = {"gomenuos/net/inet.(*Net).Socket": "sock_create"}

# The shell's dispatcher: each typed command line is a marker in the trace.
DISPATCH = "gomenuos/kernel/menu.(*Shell).dispatch"

# A user program's command lines: the console's read (Linux: n_tty_read)
# returning a line; the marker is set at ReadLine's return into
# consoleFops.Read, where Go's ABI has the string in RAX (pointer), RBX
# (length).
READLINE = "gomenuos/drivers/tty.(*TTY).ReadLine"
CONSOLE_READ = "gomenuos/drivers/char.consoleFops.Read"

# How many hits of a per-segment function the trace prints before it only
# counts them.
SEGMENT_PRINTS = 6

# The registers that tell one call from another: the stack pointer and
# Go's argument registers.
REGS = ["rsp", "rax", "rbx", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11"]

TCP_FLAGS = [(0x02, "SYN"), (0x10, "ACK"), (0x08, "PSH"), (0x01, "FIN"), (0x04, "RST")]


def flag_names(f):
    return ",".join(n for bit, n in TCP_FLAGS if f & bit) or "none"


def seg(flags, sport, dport):
    return "%s %d->%d" % (flag_names(flags), sport, dport)


def mem(addr, n):
    return gdb.selected_inferior().read_memory(addr, n).tobytes()


def var(name):
    return gdb.parse_and_eval(name)


def note_segment():
    """g (*segment): the parsed segment in the receive path."""
    g = var("g")
    return seg(int(g["flags"]), int(g["srcPort"]), int(g["dstPort"]))


def note_raw():
    """payload: tcp_v4_rcv's raw TCP header (ports, then flags at 13)."""
    b = mem(int(var("payload")["array"]), 14)
    return seg(b[13], b[0] << 8 | b[1], b[2] << 8 | b[3])


def note_transmit():
    s = var("s")
    return seg(int(var("flags")), int(s["lport"]), int(s["rport"]))


def note_synack():
    t = var("r")["tuple"]
    return seg(0x12, int(t["lport"]), int(t["rport"]))


def note_ip():
    """ip_queue_xmit: the TCP header starts at buf[off]."""
    if int(var("proto")) != 6:
        return "proto %d" % int(var("proto"))
    b = mem(int(var("buf")["array"]) + int(var("off")), 14)
    return seg(b[13], b[0] << 8 | b[1], b[2] << 8 | b[3])


def note_ports():
    """The socket's own ports (no segment in hand)."""
    s = var("s")
    return "local :%d peer :%d" % (int(s["lport"]), int(s["rport"]))


def note_connect():
    return "to :%d" % int(var("dst")["port"])


NOTES = {
    "tcp_transmit_skb": note_transmit,
    "ip_queue_xmit": note_ip,
    "tcp_v4_rcv": note_raw,
    "tcp_v4_send_synack": note_synack,
    "tcp_sendmsg": note_ports,
    "tcp_recvmsg": note_ports,
    "tcp_close": note_ports,
    "tcp_v4_connect": note_connect,
}


def hit_note(linux):
    """Describes the segment in hand from the function's arguments, or ""
    when they are not readable at this pc."""
    try:
        return NOTES.get(linux, note_segment)()
    except (gdb.error, gdb.MemoryError, KeyError, ValueError):
        return ""


class Traced(gdb.Breakpoint):
    """A breakpoint that reports each hit through its Lab and stops only
    when the lab is stopping (tcp-lab-all)."""

    def __init__(self, lab, spec, linux, sym, per_segment=False, internal=False):
        super().__init__(spec, internal=internal)
        self.lab, self.linux, self.sym, self.per_segment = lab, linux, sym, per_segment
        self.hits = 0

    def stop(self):
        frame = gdb.selected_frame()
        if self.lab.repeated(self, frame):
            return False
        self.hits += 1
        sal = frame.find_sal()
        where = "%s:%d" % (sal.symtab.filename, sal.line) if sal.symtab else "?"
        proc = self.lab.process()
        linux = USER_NAMES.get(self.sym, self.linux) if proc else self.linux
        self.lab.report(self, {"linux": linux, "sym": self.sym, "file": relpath(where),
                               "n": self.hits, "seg": self.per_segment, "note": self.note(),
                               "proc": proc})
        self.arm(frame)
        return self.lab.stopping

    def note(self):
        return hit_note(self.linux)

    def arm(self, frame):
        """Called on each hit; inet_csk_accept arms its return site."""


class LabBreakpoint(Traced):
    """One LAB row."""

    def __init__(self, lab, linux, sym, per_segment):
        super().__init__(lab, "'" + sym + "'", linux, sym, per_segment)

    def arm(self, frame):
        if self.linux != "inet_csk_accept":
            return
        # Linux's inet_csk_accept sleeps and returns the child in one
        # function; the lab shows the return too, at the caller's resume
        # address (one breakpoint per address).
        caller = frame.older()
        if caller is None or caller.pc() in self.lab.returns:
            return
        fn = caller.function()
        self.lab.returns[caller.pc()] = ReturnBreakpoint(
            self.lab, caller.pc(), self.linux, fn.name if fn else "?")


class ReturnBreakpoint(Traced):
    """The return site of a lab function (in its caller)."""

    def __init__(self, lab, pc, linux, caller):
        super().__init__(lab, "*%#x" % pc, linux, caller, internal=True)

    def note(self):
        return "returns"


class ReadLineBreakpoint(gdb.Breakpoint):
    """The console's ReadLine: arms the marker at its return into
    consoleFops.Read (a user program reading the console, not the Go
    shell, which calls ReadLine itself)."""

    def __init__(self, lab):
        super().__init__("'" + READLINE + "'", internal=True)
        self.lab = lab

    def stop(self):
        caller = gdb.selected_frame().older()
        fn = caller.function() if caller is not None else None
        if fn is not None and fn.name == CONSOLE_READ and caller.pc() not in self.lab.returns:
            self.lab.returns[caller.pc()] = LineBreakpoint(self.lab, caller.pc())
        return False


class LineBreakpoint(gdb.Breakpoint):
    """ReadLine's return into consoleFops.Read: the line a user program is
    about to get, as a command marker."""

    def __init__(self, lab, pc):
        super().__init__("*%#x" % pc, internal=True)
        self.lab = lab

    def stop(self):
        frame = gdb.selected_frame()
        if self.lab.repeated(self, frame):  # QEMU's stub reports some hits twice (Lab.repeated)
            return False
        try:
            n = int(frame.read_register("rbx"))
            ptr = int(frame.read_register("rax")) & (1 << 64) - 1
            line = mem(ptr, n).decode(errors="replace") if 0 < n < 4096 else ""
        except (gdb.error, gdb.MemoryError, OverflowError, ValueError):
            line = "?"
        self.lab.report(self, {"cmd": line, "proc": self.lab.process()})
        return False


class DispatchBreakpoint(gdb.Breakpoint):
    """The shell's dispatcher: marks each typed command in the trace."""

    def __init__(self, lab):
        super().__init__("'" + DISPATCH + "'", internal=True)
        self.lab = lab

    def stop(self):
        try:
            v = var("line")
            line = mem(int(v["str"]), int(v["len"])).decode(errors="replace")
        except (gdb.error, gdb.MemoryError):
            line = "?"
        self.lab.report(self, {"cmd": line})
        return False


def relpath(where):
    """Strips the build machine's checkout path: net/tcp/input.go:78."""
    for marker in ("/net/", "/kernel/", "/fs/", "/sched/", "/drivers/"):
        i = where.find(marker)
        if i >= 0:
            return where[i + 1:]
    return where


def format_hit(h):
    if "cmd" in h:
        return "-- MenuOS>>%s" % h["cmd"]
    line = "%-30s ->  %s (%s)" % (h["linux"], h["sym"], h["file"])
    if h["note"]:
        line += "  [%s]" % h["note"]
    if h.get("proc"):
        line += "  %s" % h["proc"]
    return line


class Lab:
    """The lab's breakpoints: one per LAB row, the dispatcher's marker and
    return sites armed on the way. machine: print JSON lines for qemu/lab."""

    def __init__(self):
        self.bps, self.returns = [], {}
        self.seq, self.dupes, self.prev = 0, 0, None
        self.machine = False
        self.stopping = False
        self.user = False

    def install(self, stopping, machine, user=False):
        for bp in self.bps + list(self.returns.values()):
            bp.delete()
        self.bps, self.returns = [], {}
        self.seq, self.dupes, self.prev = 0, 0, None
        self.stopping, self.machine, self.user = stopping, machine, user
        self.bps.append(DispatchBreakpoint(self))
        rows = LAB
        if user:
            self.bps.append(ReadLineBreakpoint(self))
            rows = LAB + USER_LAB
        for linux, sym, per_segment in rows:
            bp = LabBreakpoint(self, linux, sym, per_segment)
            if bp.pending:
                # A renamed function: say so rather than trace without it.
                print("tcplab: %s (%s) is not in this kernel; see docs/linux-map.md" % (sym, linux),
                      flush=True)
            self.bps.append(bp)

    def repeated(self, bp, frame):
        """Reports whether this hit is the previous one again: the same
        breakpoint with every register as it was and nothing reported in
        between. QEMU's stub sometimes reports one call's breakpoint twice
        (seen at tcp_v4_conn_request's entry: the same pc with the same
        registers, as when the guest takes an interrupt there and comes
        back); a new call differs in its stack or argument registers."""
        regs = tuple(int(frame.read_register(r)) for r in REGS)
        key = (bp.number, regs)
        if key == self.prev:
            self.dupes += 1
            return True
        self.prev = key
        return False

    def process(self):
        """comm[pid] of the user process the code on the CPU works for, ""
        for the kernel's own goroutines (and always in the Go shell's lab)."""
        if not self.user:
            return ""
        ut = current_user_thread()
        return ut.label() if ut is not None else ""

    def report(self, bp, hit):
        self.seq += 1
        hit["seq"] = self.seq
        if self.machine:
            print("@lab " + json.dumps(hit), flush=True)
        elif self.stopping or not getattr(bp, "per_segment", False) or bp.hits <= SEGMENT_PRINTS:
            print(format_hit(hit), flush=True)

    def summary(self):
        for bp in self.bps:
            if isinstance(bp, Traced):
                linux = USER_NAMES.get(bp.sym, bp.linux) if self.user else bp.linux
                print("%-30s %4d  %s" % (linux, bp.hits, bp.sym))
        if self.dupes:
            print("(%d repeated reports of one hit ignored)" % self.dupes)


LAB_STATE = Lab()


class TcpLabAll(gdb.Command):
    """Break on every TCP lab function (Linux name beside ours on each stop).
Then `continue`, type `replyhi` and `hello` in QEMU, and keep `continue`-ing.
`tcp-lab-all user`: the lab on the C MenuOS (init=/bin/menu), with the
system calls' breakpoints and the process of each stop."""

    def __init__(self):
        super().__init__("tcp-lab-all", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        LAB_STATE.install(stopping=True, machine=False, user="user" in arg.split())


class TcpLabTrace(gdb.Command):
    """Trace every TCP lab function without stopping: each hit prints a line
(`tcp-lab-trace json` prints JSON for qemu/lab; `user` adds the C MenuOS's
system calls, as tcp-lab-all user). Then `continue`."""

    def __init__(self):
        super().__init__("tcp-lab-trace", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        LAB_STATE.install(stopping=False, machine="json" in arg.split(), user="user" in arg.split())


class TcpLabSummary(gdb.Command):
    """Hits per TCP lab function since tcp-lab-all or tcp-lab-trace."""

    def __init__(self):
        super().__init__("tcp-lab-summary", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        LAB_STATE.summary()


# linux-break: break by Linux name, through the lab table and then
# docs/linux-map.md (this file is qemu/gdb/tcplab.py).
MAP_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "linux-map.md")

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def map_rows():
    """The map's table rows as (linux cell, ours cell, file cell)."""
    with open(MAP_PATH) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if line.startswith("|") and len(cells) == 3 and not line.startswith("|---") and cells[0] != "Linux":
                yield cells


def full_names(span, files):
    """Candidate gdb symbols for a Go name as the map writes it, relative
    to the packages of its files: (*T).m, T.m, pkg.f, f, or 'full'."""
    if span.startswith("'") and span.endswith("'"):
        return [span.strip("'")]
    out = []
    for f in files.split(","):
        pkg = "gomenuos/" + os.path.dirname(f.strip())
        base = pkg.rsplit("/", 1)[-1]
        m = re.match(r"^\(\*(\w+)\.(\w+)\)\.(\w+)$", span)
        if m:
            out.append("%s.(*%s).%s" % (pkg, m.group(2), m.group(3)))
            continue
        head, _, tail = span.partition(".")
        if tail and head == base:
            out.append("%s.%s" % (pkg, tail))
        elif tail and not head.startswith("("):
            out += ["%s.(*%s).%s" % (pkg, head, tail), "%s.%s" % (pkg, span)]
        else:
            out.append("%s.%s" % (pkg, span))
    return out


def breakable(sym):
    try:
        return bool(gdb.decode_line("'%s'" % sym)[1])
    except gdb.error:
        return False


def packages(files):
    return ["gomenuos/" + os.path.dirname(f.strip()) for f in files.split(",") if f.strip()]


def receivers():
    """Receiver types the map names, per package: {pkg: {"Sock", ...}}."""
    out = {}
    for _, ours, files in map_rows():
        for span in ours.split("`")[1::2]:
            types = re.findall(r"\(\*(?:\w+\.)?(\w+)\)\.", span)
            m = re.match(r"^(\w+)\.\w+$", span)
            if m:
                types.append(m.group(1))
            for pkg in packages(files):
                out.setdefault(pkg, set()).update(types)
    return out


def methods_named(files, name):
    """pkg.(*T).name and pkg.T.name for the receiver types the map uses in
    those packages: its shorthand `(*T).a` / `b`, or a bare method name."""
    recv, out = receivers(), []
    for pkg in packages(files):
        for t in sorted(recv.get(pkg, ())):
            out += ["%s.(*%s).%s" % (pkg, t, name), "%s.%s.%s" % (pkg, t, name)]
    return out


def candidates(name):
    """Map rows naming the Linux function, best first: the row's only
    name, then its place in "a / b" beside "`A` / `B`", then its first
    name, then any mention. Yields (spans, files)."""
    scored = []
    for n, (linux, ours, files) in enumerate(map_rows()):
        if name not in IDENT.findall(linux):
            continue
        names = IDENT.findall(linux)
        spans = ours.split("`")[1::2]
        score = 0
        if names == [name]:
            score = 3
        elif name in names and len(names) == len(spans):
            score, spans = 2, [spans[names.index(name)]]
        elif names and names[0] == name:
            score = 1
        scored.append((-score, n, spans, files))
    for _, _, spans, files in sorted(scored):
        yield spans, files


def resolve_linux(name):
    """Our symbol for the Linux function name: (symbol, None), or (None,
    why)."""
    for linux, sym, _ in LAB + USER_LAB:
        if linux == name:
            return sym, None
    named = []
    for spans, files in candidates(name):
        for span in spans:
            syms = full_names(span, files)
            if re.match(r"^\w+$", span):
                syms += methods_named(files, span)
            for sym in syms:
                if breakable(sym):
                    return sym, None
            named.append(span)
    if named:
        return None, "the map names %s, which this kernel does not contain" % ", ".join(named)
    return None, "not in the lab table or docs/linux-map.md"


class LinuxBreak(gdb.Command):
    """linux-break NAME: break on our counterpart of the Linux function NAME
(tcp_v4_rcv, inet_csk_accept, wake_up_interruptible, ...), found in the lab
table or docs/linux-map.md; prints the Go symbol it chose."""

    def __init__(self):
        super().__init__("linux-break", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        sym, why = resolve_linux(name)
        if sym is None:
            raise gdb.GdbError("linux-break %s: %s" % (name, why))
        print("%s  ->  %s" % (name, sym))
        gdb.Breakpoint("'" + sym + "'")


TcpLabAll()
TcpLabTrace()
TcpLabSummary()
LinuxBreak()
