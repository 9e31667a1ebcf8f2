package proc

// Process life-cycle system calls (Linux: kernel/fork.c, kernel/exit.c,
// fs/exec.c).

func init() {
	register(56, "clone", sysClone)
	register(57, "fork", sysFork)
	register(58, "vfork", sysVfork)
	register(59, "execve", sysExecve)
	register(60, "exit", sysExit)
	register(61, "wait4", sysWait4)
	register(231, "exit_group", sysExitGroup)
	register(247, "waitid", sysWaitid)
	register(435, "clone3", sysClone3)
}
