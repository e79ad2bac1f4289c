// containerd 2.1's RuntimeDefault seccomp profile (contrib/seccomp DefaultProfile), as
// data. It is an allow list with EPERM for everything else; some syscalls are only
// allowed when the container's bounding set holds the capability that guards them, so
// the profile is computed from the final capabilities.
import type { GoArch } from "./spec-options.js";
import type { OciSeccomp, OciSyscall } from "./spec-types.js";

const ALLOWED = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64
fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait
futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid
getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list
getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill
landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link
linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall
map_shadow_stack mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd
msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat
openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir
rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send
sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32
setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs
statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill
truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes
vfork vmsplice wait4 waitid waitpid write writev`;

const words = (s: string) => s.trim().split(/\s+/);

const ARCHITECTURES: Partial<Record<GoArch, string[]>> = {
  amd64: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  arm64: ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"],
  mips64: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"],
  mips64le: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32"],
  s390x: ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"],
  riscv64: ["SCMP_ARCH_RISCV64"],
};

const ARCH_SYSCALLS: Partial<Record<GoArch, string>> = {
  ppc64le: "sync_file_range2 swapcontext",
  arm: "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
  arm64: "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
  amd64: "arch_prctl modify_ldt",
  "386": "modify_ldt",
  s390x: "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr",
  riscv64: "riscv_flush_icache",
};

/** Syscalls a capability in the bounding set unlocks. */
const CAPABILITY_SYSCALLS: Record<string, string> = {
  CAP_DAC_READ_SEARCH: "open_by_handle_at",
  CAP_SYS_ADMIN:
    "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr " +
    "move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog " +
    "umount umount2 unshare",
  CAP_SYS_BOOT: "reboot",
  CAP_SYS_CHROOT: "chroot",
  CAP_SYS_MODULE: "delete_module init_module finit_module",
  CAP_SYS_PACCT: "acct",
  CAP_SYS_PTRACE: "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
  CAP_SYS_RAWIO: "iopl ioperm",
  CAP_SYS_TIME: "settimeofday stime clock_settime clock_settime64",
  CAP_SYS_TTY_CONFIG: "vhangup",
  CAP_SYS_NICE: "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
  CAP_SYSLOG: "syslog",
  CAP_BPF: "bpf",
  CAP_PERFMON: "perf_event_open",
};

const AF_VSOCK = 40;
const ENOSYS = 38;
// CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP: clone may not create namespaces.
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x02000000;

const allow = (names: string): OciSyscall => ({ names: words(names), action: "SCMP_ACT_ALLOW" });
const personality = (value: number): OciSyscall => ({
  names: ["personality"],
  action: "SCMP_ACT_ALLOW",
  args: [{ index: 0, value, op: "SCMP_CMP_EQ" }],
});

export interface DefaultSeccompHost {
  arch: GoArch;
  kernelAtLeast4_8: boolean;
}

/** The RuntimeDefault profile for a process whose bounding set is `boundingCaps`. */
export function defaultSeccompProfile(boundingCaps: readonly string[], host: DefaultSeccompHost): OciSeccomp {
  const syscalls: OciSyscall[] = [
    allow(ALLOWED),
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }] },
    personality(0x0),
    personality(0x0008),
    personality(0x20000),
    personality(0x20008),
    personality(0xffffffff),
  ];
  if (host.kernelAtLeast4_8) syscalls.push(allow("process_vm_readv process_vm_writev ptrace"));
  const archCalls = ARCH_SYSCALLS[host.arch];
  if (archCalls) syscalls.push(allow(archCalls));

  let admin = false;
  for (const cap of boundingCaps) {
    if (cap === "CAP_SYS_ADMIN") admin = true;
    const unlocked = CAPABILITY_SYSCALLS[cap];
    if (unlocked) syscalls.push(allow(unlocked));
  }
  if (!admin) {
    // The clone flags are the second argument on s390x.
    const index = host.arch === "s390x" ? 1 : 0;
    syscalls.push({
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }],
    });
    // ENOSYS rather than EPERM makes glibc fall back from clone3 to clone (moby/moby#42681).
    syscalls.push({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS });
  }
  return { defaultAction: "SCMP_ACT_ERRNO", architectures: [...(ARCHITECTURES[host.arch] ?? [])], syscalls };
}
