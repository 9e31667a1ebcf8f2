package proc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"syscall"

	"gomenuos/arch/x86"
	"gomenuos/fs"
	"gomenuos/kernel/exec"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// Limits of execve's arguments.
const (
	maxArgs        = 1 << 16
	maxArgLen      = 128 << 10 // Linux: MAX_ARG_STRLEN
	maxScriptDepth = 4         // Linux: binfmt_script's recursion limit
	maxPathLen     = 4096
)

// program is an executable found by path, ready to be loaded.
type program struct {
	path string // as given (AT_EXECFN)
	real string // the file's canonical path (/proc/<pid>/exe, maps)
	data []byte
	ino  uint64
	argv []string
}

// findProgram opens path, follows "#!" lines (Linux: load_script), and
// returns the ELF to load with the argv it gets.
func findProgram(task *sched.Task, cwd, file string, argv []string) (*program, error) {
	for depth := 0; ; depth++ {
		data, ino, err := readExecutable(task, resolve(cwd, file))
		if err != nil {
			return nil, err
		}
		interp, arg, ok := scriptLine(data)
		if !ok {
			real, err := fs.Root().Resolve(task, resolve(cwd, file))
			if err != nil {
				real = resolve(cwd, file)
			}
			return &program{path: file, real: real, data: data, ino: ino, argv: argv}, nil
		}
		if depth == maxScriptDepth {
			return nil, syscall.ELOOP
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, file)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		file, argv = interp, nargv
	}
}

// readExecutable returns the contents of a regular file that may be run.
func readExecutable(task *sched.Task, p string) ([]byte, uint64, error) {
	ns := fs.Root()
	f, err := ns.Open(task, p, fs.O_RDONLY, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Put()
	st := f.Inode.Stat()
	if !st.Mode.IsRegular() {
		return nil, 0, syscall.EACCES
	}
	if st.Mode&0o111 == 0 {
		return nil, 0, syscall.EACCES
	}
	if mp, ok := f.Ops().(fs.Mapper); ok {
		data, err := mp.Bytes(f)
		return data, st.Ino, err
	}
	data, err := io.ReadAll(fileReader{task, f})
	return data, st.Ino, err
}

// fileReader adapts an open file to io.Reader.
type fileReader struct {
	task *sched.Task
	f    *fs.File
}

func (r fileReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(r.task, p)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, err
}

// scriptLine parses "#!interpreter [arg]".
func scriptLine(data []byte) (interp, arg string, ok bool) {
	if len(data) < 2 || data[0] != '#' || data[1] != '!' {
		return "", "", false
	}
	line := string(data[2:min(len(data), 256)])
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", false
	}
	interp, arg, _ = strings.Cut(line, " ")
	return interp, strings.TrimSpace(arg), true
}

func resolve(cwd, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return path.Join(cwd, p)
}

// image is a loaded program: its address space and starting registers.
type image struct {
	mm   *mm.MM
	regs x86.TrapFrame
}

// loadProgram builds a fresh address space holding prog (Linux:
// bprm_execve → exec_binprm → load_elf_binary).
func loadProgram(prog *program, envp []string) (*image, error) {
	m, err := mm.NewMM()
	if err != nil {
		return nil, err
	}
	var rnd [24]byte
	rand.Read(rnd[:])
	img, err := exec.LoadElfBinary(m, prog.data, prog.real, prog.ino, binary.LittleEndian.Uint64(rnd[16:]))
	if err == nil {
		m.BrkStart, m.Brk = img.BrkStart, img.BrkStart
		si := exec.StackInfo{Argv: prog.argv, Envp: envp, ExecFn: prog.path, HWCap: hwcap(),
			Jitter: uintptr(rnd[0]) * 16}
		copy(si.Random[:], rnd[:16])
		var sp uintptr
		if sp, err = exec.CreateElfTables(m, img, si); err == nil {
			im := &image{mm: m}
			im.regs.RIP, im.regs.RSP = uint64(img.Entry), uint64(sp)
			im.regs.RFLAGS = x86.FlagIF | 2
			initFX(&im.regs.FX)
			return im, nil
		}
	}
	m.Put(dropRoot)
	return nil, err
}

func hwcap() uint64 {
	_, _, _, edx := x86.Cpuid(1, 0)
	return uint64(edx)
}

// initFX gives a fresh FXSAVE image the power-on defaults (FCW 0x37F,
// MXCSR 0x1F80), as a new program gets them from execve.
func initFX(fx *[512]byte) {
	*fx = [512]byte{}
	fx[0], fx[1] = 0x7F, 0x03
	binary.LittleEndian.PutUint32(fx[24:], 0x1F80)
	binary.LittleEndian.PutUint32(fx[28:], 0xFFFF)
}

// sysExecve replaces the process's program (Linux: execve →
// do_execveat_common → bprm_execve). On success it does not return: the
// thread starts the new program.
func sysExecve(t *Thread, a args) (uintptr, error) {
	m := t.Proc.MM()
	file, err := m.StrncpyFromUser(a[0], maxPathLen)
	if err != nil {
		return 0, err
	}
	argv, err := readStrings(m, a[1])
	if err != nil {
		return 0, err
	}
	envp, err := readStrings(m, a[2])
	if err != nil {
		return 0, err
	}
	return 0, t.doExecveatCommon(file, argv, envp)
}

// doExecveatCommon loads the program and, past the point of no return, makes the
// process run it.
func (t *Thread) doExecveatCommon(file string, argv, envp []string) error {
	if file == "" {
		return syscall.ENOENT
	}
	prog, err := findProgram(t.task, t.Proc.Cwd(), file, argv)
	if err != nil {
		return err
	}
	im, err := loadProgram(prog, envp)
	if errors.Is(err, exec.ErrDynamic) {
		fmt.Fprintf(consoleLog(), "gomenuos: %s: dynamically linked programs need an ELF interpreter, which this kernel does not provide\n", file)
		return syscall.ENOEXEC
	}
	if err != nil {
		return err
	}
	t.Proc.killOtherThreads(t)
	t.install(im, prog)
	trace.SetTask(t.Proc.Comm(), uint64(t.TID)) // traces show the new program's name
	return errNoReturn
}

// install makes the thread run a loaded image (Linux: begin_new_exec,
// setup_new_exec, start_thread).
func (t *Thread) install(im *image, prog *program) {
	p := t.Proc
	p.mu.Lock()
	old := p.mmPtr.Swap(im.mm)
	p.setCommLocked(prog.path)
	p.cmdline = prog.argv
	p.exe = prog.real
	files := p.files
	vfork := p.vforkDone
	p.vforkDone = nil
	p.execDone = true
	p.mu.Unlock()
	if old != nil {
		old.Put(dropRoot)
	}
	if vfork != nil {
		close(vfork)
	}
	if files != nil {
		files.CloseOnExec()
	}
	p.sig.resetForExec()
	t.sigMu.Lock()
	t.altSP, t.altSize, t.altOff = 0, 0, true
	t.sigMu.Unlock()
	t.clearTID = 0
	t.task = newUserTask(p.Comm())
	t.ctx.Regs = im.regs
	t.ctx.GSBase = 0
}

// killOtherThreads ends every other thread before an exec (Linux: de_thread).
func (p *Process) killOtherThreads(keep *Thread) {
	for {
		others := 0
		for _, o := range p.threadsSnapshot() {
			if o != keep {
				others++
				o.exitNow.Store(true)
				o.kick()
			}
		}
		if others == 0 {
			return
		}
		exitWait.WaitEventInterruptible(nil, func() bool { return len(p.threadsSnapshot()) == 1 })
	}
}

// readStrings reads a NULL-terminated array of string pointers (argv).
func readStrings(m *mm.MM, addr uintptr) ([]string, error) {
	if addr == 0 {
		return nil, nil
	}
	var out []string
	total := 0
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, syscall.E2BIG
		}
		var b [8]byte
		if err := m.CopyFromUser(b[:], addr+uintptr(i)*8); err != nil {
			return nil, err
		}
		p := uintptr(binary.LittleEndian.Uint64(b[:]))
		if p == 0 {
			return out, nil
		}
		s, err := m.StrncpyFromUser(p, maxArgLen)
		if errors.Is(err, syscall.ENAMETOOLONG) {
			return nil, syscall.E2BIG
		}
		if err != nil {
			return nil, err
		}
		total += len(s) + 1
		if total > exec.MaxArgBytes {
			return nil, syscall.E2BIG
		}
		out = append(out, s)
	}
}
