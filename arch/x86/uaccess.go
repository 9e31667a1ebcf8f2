package x86

// Direct copies to and from user memory (Linux: copy_user_generic with
// its exception-table entries, and fixup_exception). Goroutine context.
//
// A system call runs in the goroutine of the user thread that made it,
// with that process's page-table tree still loaded (kernel code is mapped
// in every tree), so the kernel can copy through the user's own mappings
// instead of looking every page up: user pages are not supervisor-only,
// and CR0.WP makes a kernel write to a read-only (copy-on-write) page
// fault as the user's would. A page fault in these routines at a user
// address is resolved by the trap handler (UserAccessFault): the page is
// faulted in as the process's own access would (demand-zero, file page,
// copy-on-write) and the instruction runs again; a fault it cannot
// resolve — no mapping, no access, the address space busy in another
// goroutine — resumes at a fixup that makes the routine return false, and
// the caller takes the slow path, which looks the pages up under the
// address space's mutex and decides EFAULT as before. So no user input
// makes the kernel fault: the worst a bad pointer does is send the copy
// down the slow path.
//
// The routines refuse (return false at once) unless the tree they are
// told to copy to is the running thread's (PerCPU.UserCR3, kept by the
// scheduler): the CPU reloads that tree whenever the thread runs again, so
// a preemption in the middle of a copy cannot leave it writing to another
// process. The caller checks the range is in the user half (access_ok).

import "unsafe"

// copyToUser and copyFromUser copy n bytes between kernel memory and a
// user address in the tree root (the *MM mm) and report whether they
// could; both end in copyUserGeneric, the loop.
func copyToUser(dst uintptr, src unsafe.Pointer, n, root, mm uintptr) bool
func copyFromUser(dst unsafe.Pointer, src uintptr, n, root, mm uintptr) bool
func copyUserGeneric()

// faultInWriteable makes every page of the user range [addr, addr+n), n > 0,
// present and writable, as the process's own write would, without changing
// a byte (Linux: fault_in_writeable), and reports whether it could.
func faultInWriteable(addr, n, root, mm uintptr) bool

func uaccessEnd()
func copyUserFixup()
func uaccessPCs() (toUser, fromUser, generic, probe, end, fixup uintptr)

// CopyToUserDirect copies src to user address dst in the tree root, whose
// *MM is mm. The caller has checked that the range is in the user half.
func CopyToUserDirect(dst uintptr, src []byte, root, mm uintptr) bool {
	if len(src) == 0 {
		return true
	}
	return copyToUser(dst, unsafe.Pointer(&src[0]), uintptr(len(src)), root, mm)
}

// CopyFromUserDirect copies len(dst) bytes from user address src.
func CopyFromUserDirect(dst []byte, src uintptr, root, mm uintptr) bool {
	if len(dst) == 0 {
		return true
	}
	return copyFromUser(unsafe.Pointer(&dst[0]), src, uintptr(len(dst)), root, mm)
}

// FaultInWriteable is faultInWriteable for a range in the user half.
func FaultInWriteable(addr, n, root, mm uintptr) bool {
	if n == 0 {
		return true
	}
	return faultInWriteable(addr, n, root, mm)
}

var uaccessStart, uaccessStop, uaccessFixup uintptr

func init() {
	// The range check in UserAccessFault relies on the linker keeping
	// the routines of uaccess_amd64.s in their order in the file.
	toUser, fromUser, generic, probe, end, fixup := uaccessPCs()
	uaccessStart, uaccessStop, uaccessFixup = toUser, end, fixup
	for _, p := range [3]uintptr{fromUser, generic, probe} {
		if p <= uaccessStart || p >= uaccessStop || uaccessStop-uaccessStart > 512 {
			panic("x86: the user-copy routines are not laid out together")
		}
	}
}

// UserAccessFault is the exception-table lookup for a page fault in
// kernel mode (Linux: fixup_exception with ex_handler_uaccess): when the
// fault is a direct user copy's at user address addr, it calls resolve
// with the copy's *MM, and either lets the access run again (resolve
// reported true) or sends the routine to its fixup. It reports whether
// the fault was a user copy's. Trap context.
func UserAccessFault(tf *TrapFrame, addr uint64, resolve func(mm, addr uintptr, errCode uint64) bool) bool {
	if tf.RIP < uint64(uaccessStart) || tf.RIP >= uint64(uaccessStop) || addr >= UserEnd || tf.CS&3 != 0 {
		return false
	}
	// A supervisor read of a present page, or a reserved bit, is not
	// something faulting in can fix: without the check the access would
	// fault again forever.
	if tf.ErrorCode&(1|2) == 1 || tf.ErrorCode&8 != 0 || !resolve(uintptr(tf.RDX), uintptr(addr), tf.ErrorCode) {
		tf.RIP = uint64(uaccessFixup)
	}
	return true
}
