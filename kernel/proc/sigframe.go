package proc

import (
	"encoding/binary"
	"strconv"
)

// Linux's x86-64 rt_sigframe, as user space sees it on the stack when a
// handler starts (arch/x86/include/asm/sigframe.h):
//
//	+0    pretcode   the handler returns here (sa_restorer → rt_sigreturn)
//	+8    ucontext   uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask
//	+312  siginfo    128 bytes
//	...   fpstate    512-byte FXSAVE image, 64-byte aligned, above the frame
const (
	frameUC    = 8
	ucStack    = 16
	ucMcontext = 40
	ucSigmask  = 296
	ucSize     = 304
	frameInfo  = frameUC + ucSize
	frameSize  = frameInfo + 128
	fxSize     = 512
	redZone    = 128

	mcRSP, mcRIP = 120, 128
	mcEflags     = 136
	mcCSGSFS     = 144
	mcErr        = 152
	mcTrapno     = 160
	mcOldmask    = 168
	mcCR2        = 176
	mcFPState    = 184

	ucFlagsSigcontextSS = 0x2 | 0x4 // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
)

// Flags user code may change through sigreturn (Linux: FIX_EFLAGS).
const fixEflags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x10000

// mcRegs returns the registers in struct sigcontext order.
func (t *Thread) mcRegs() [16]*uint64 {
	r := &t.ctx.Regs
	return [16]*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.RDI, &r.RSI, &r.RBP, &r.RBX, &r.RDX, &r.RAX, &r.RCX, &r.RSP}
}

// handleSignal builds the frame and points the thread at the handler
// (Linux: handle_signal → setup_rt_frame). A stack it cannot write to
// gets SIGSEGV instead (Linux: force_sigsegv).
func (t *Thread) handleSignal(info sigInfo, act sigaction) {
	r := &t.ctx.Regs
	sig := int(info.signo)
	t.sigMu.Lock()
	sp := uintptr(r.RSP)
	onAlt := !t.altOff && sp-t.altSP < t.altSize
	if act.flags&saOnStack != 0 && !t.altOff && !onAlt {
		sp = t.altSP + t.altSize
	} else {
		sp -= redZone
	}
	oldMask := t.mask
	if t.restoreMask {
		oldMask, t.restoreMask = t.savedMask, false
	}
	altSP, altSize, altFlags := t.altSP, t.altSize, uint64(0)
	if t.altOff {
		altFlags = ssDisable
	} else if onAlt {
		altFlags = ssOnStack
	}
	t.sigMu.Unlock()

	fp := (sp - fxSize) &^ 63
	frame := ((fp - frameSize) &^ 15) - 8 // as after a CALL: (frame+8) % 16 == 0
	b := make([]byte, fp+fxSize-frame)
	put := func(off uintptr, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
	put(0, act.restorer)
	uc := uintptr(frameUC)
	put(uc, ucFlagsSigcontextSS)
	put(uc+ucStack, uint64(altSP))
	put(uc+ucStack+8, altFlags)
	put(uc+ucStack+16, uint64(altSize))
	mc := uc + ucMcontext
	for i, reg := range t.mcRegs() {
		put(mc+uintptr(i)*8, *reg)
	}
	put(mc+mcRIP, r.RIP)
	put(mc+mcEflags, r.RFLAGS)
	put(mc+mcCSGSFS, uint64(r.CS)|uint64(r.SS)<<48)
	put(mc+mcErr, r.ErrorCode)
	put(mc+mcTrapno, r.Vector)
	put(mc+mcOldmask, oldMask)
	put(mc+mcCR2, t.ctx.CR2)
	put(mc+mcFPState, uint64(fp))
	put(uc+ucSigmask, oldMask)
	writeSiginfo(b[frameInfo:], info)
	copy(b[fp-frame:], r.FX[:])
	if err := t.Proc.MM().CopyToUser(frame, b); err != nil {
		t.forceSigFault(sigSEGV, siKernel, 0)
		return
	}
	t.sigMu.Lock()
	if act.flags&saNoDefer == 0 {
		t.mask |= sigbit(sig)
	}
	t.mask |= act.mask &^ unblockable
	t.sigMu.Unlock()
	if act.flags&saResetHand != 0 {
		p := t.Proc
		p.sig.mu.Lock()
		p.sig.act[sig] = sigaction{}
		p.sig.mu.Unlock()
	}
	r.RSP = uint64(frame)
	r.RIP = act.handler
	r.RDI = uint64(sig)
	r.RSI = uint64(frame + frameInfo)
	r.RDX = uint64(frame + frameUC)
	r.RAX = 0
	r.RFLAGS &^= 0x100 | 0x400 // TF, DF: the ABI wants DF clear
	Stats.Signals.Add(1)
}

// writeSiginfo lays out a siginfo_t: signo, errno, code, then the union
// (kill: pid, uid; SIGCHLD: pid, uid, status; faults: the address).
func writeSiginfo(b []byte, info sigInfo) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(info.signo))
	le.PutUint32(b[8:], uint32(info.code))
	switch int(info.signo) {
	case sigSEGV, sigBUS, sigILL, sigFPE, sigTRAP:
		if info.code > 0 {
			le.PutUint64(b[16:], info.addr)
			return
		}
	}
	le.PutUint32(b[16:], uint32(info.pid))
	le.PutUint32(b[20:], uint32(info.uid))
	if int(info.signo) == sigCHLD {
		le.PutUint32(b[24:], uint32(info.status))
	}
}

// sysRtSigreturn restores what handleSignal saved, with the handler's
// changes (Linux: rt_sigreturn → restore_sigcontext). At the syscall RSP
// points at the ucontext: the handler's RET popped pretcode.
func sysRtSigreturn(t *Thread, _ args) (uintptr, error) {
	r := &t.ctx.Regs
	ucAddr := uintptr(r.RSP)
	var uc [ucSize]byte
	m := t.Proc.MM()
	if err := m.CopyFromUser(uc[:], ucAddr); err != nil {
		t.forceSigFault(sigSEGV, siKernel, 0)
		return 0, errNoReturn
	}
	le := binary.LittleEndian
	get := func(off uintptr) uint64 { return le.Uint64(uc[off:]) }
	mc := uintptr(ucMcontext)
	for i, reg := range t.mcRegs() {
		*reg = get(mc + uintptr(i)*8)
	}
	r.RIP = get(mc + mcRIP)
	r.RFLAGS = r.RFLAGS&^fixEflags | get(mc+mcEflags)&fixEflags
	if fp := uintptr(get(mc + mcFPState)); fp != 0 {
		var fx [fxSize]byte
		if err := m.CopyFromUser(fx[:], fp); err != nil {
			t.forceSigFault(sigSEGV, siKernel, 0)
			return 0, errNoReturn
		}
		r.FX = fx
	}
	t.sigMu.Lock()
	t.mask = get(ucSigmask) &^ unblockable
	if get(ucStack+8)&ssDisable == 0 && get(ucStack+16) >= 2048 {
		t.altSP, t.altSize, t.altOff = uintptr(get(ucStack)), uintptr(get(ucStack+16)), false
	}
	t.sigMu.Unlock()
	t.origRAX = ^uint64(0) // not a restartable call
	return 0, errNoReturn
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) (int, error) { return strconv.Atoi(s) }
