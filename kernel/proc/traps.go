package proc

import (
	"fmt"

	"gomenuos/kernel/mm"
)

// Faults and exceptions of user code (Linux: arch/x86/mm/fault.c's
// do_user_addr_fault, arch/x86/kernel/traps.c). The trap handler already
// served the faults it could; what comes here either needs goroutine
// context (the address space was busy) or becomes a signal.

// pageFault finishes a page fault: resolve it now that the address space
// is free, or send SIGSEGV with Linux's report when the process will die
// of it (Linux: show_signal_msg).
func (t *Thread) pageFault() {
	r := &t.ctx.Regs
	addr := uintptr(t.ctx.CR2)
	res := t.Proc.MM().Fault(addr, r.ErrorCode)
	switch res {
	case mm.FaultMapped:
		return
	case mm.FaultOOM:
		fmt.Fprintf(consoleLog(), "Out of memory: killed process %d (%s)\n", t.Proc.PID, t.Proc.Comm())
		t.Proc.doGroupExit(sigKILL, t.Proc.threadsSnapshot())
		return
	}
	code := int32(segvMapErr)
	if res == mm.FaultProt {
		code = segvAccErr
	}
	if t.unhandled(sigSEGV) {
		fmt.Fprintf(consoleLog(), "%s[%d]: segfault at %x ip %016x sp %016x error %x%s\n",
			t.Proc.Comm(), t.Proc.PID, addr, r.RIP, r.RSP, r.ErrorCode, t.where(r.RIP))
	}
	t.forceSigFault(sigSEGV, code, uint64(addr))
}

// exceptions maps a vector to its signal, si_code and Linux's name for
// the report (Linux: the DO_ERROR table in traps.c).
var exceptions = map[int]struct {
	sig  int
	code int32
	name string
}{
	0:  {sigFPE, fpeIntDiv, "divide error"},
	1:  {sigTRAP, 2, "debug"},
	3:  {sigTRAP, siKernel, "int3"},
	4:  {sigSEGV, siKernel, "overflow"},
	5:  {sigSEGV, siKernel, "bounds"},
	6:  {sigILL, illIllOpn, "invalid opcode"},
	7:  {sigSEGV, siKernel, "device not available"},
	10: {sigSEGV, siKernel, "invalid TSS"},
	11: {sigBUS, siKernel, "segment not present"},
	12: {sigBUS, siKernel, "stack segment"},
	13: {sigSEGV, siKernel, "general protection fault"},
	16: {sigFPE, 0, "coprocessor error"},
	17: {sigBUS, 2, "alignment check"},
	19: {sigFPE, 0, "simd exception"},
}

// exception turns a CPU exception in user code into its signal.
func (t *Thread) exception(vector int) {
	r := &t.ctx.Regs
	e, ok := exceptions[vector]
	if !ok {
		e.sig, e.code, e.name = sigSEGV, siKernel, fmt.Sprintf("exception %d", vector)
	}
	addr := uint64(0)
	if e.code > 0 && e.code != siKernel {
		addr = r.RIP
	}
	if t.unhandled(e.sig) && e.sig != sigTRAP {
		fmt.Fprintf(consoleLog(), "traps: %s[%d] %s ip:%x sp:%x error:%x%s\n",
			t.Proc.Comm(), t.Proc.PID, trapName(vector, e.name), r.RIP, r.RSP, r.ErrorCode, t.where(r.RIP))
	}
	t.forceSigFault(e.sig, e.code, addr)
}

// trapName is how Linux words it: "general protection fault", but
// "trap divide error".
func trapName(vector int, name string) string {
	if vector == 13 {
		return name
	}
	return "trap " + name
}

// unhandled reports whether sig would kill the process (no handler).
func (t *Thread) unhandled(sig int) bool {
	a := t.Proc.sig.get(sig)
	return a.handler == sigDFL || a.handler == sigIGN || t.blocks(sig)
}

// where names the mapping holding ip as Linux does: " in prog[start+size]".
func (t *Thread) where(ip uint64) string {
	for _, v := range t.Proc.MM().VMAs() {
		if uintptr(ip) >= v.Start && uintptr(ip) < v.End && v.Name != "" {
			base := v.Name
			for i := len(base) - 1; i >= 0; i-- {
				if base[i] == '/' {
					base = base[i+1:]
					break
				}
			}
			return fmt.Sprintf(" in %s[%x+%x]", base, v.Start, v.End-v.Start)
		}
	}
	return ""
}
