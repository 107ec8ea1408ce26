/**
 * sbx's default seccomp profile, in docker's JSON profile format (what `--security-opt
 * seccomp=PROFILE.json` reads), so it can be printed, diffed and edited as one.
 *
 * Built from docker's rules as the floor and stricter where a sandbox for untrusted code should
 * be: everything not listed fails with EPERM (never a kill), and beyond docker's default these
 * are refused to a default container:
 * - io_uring_setup/enter/register (not listed at all: a large kernel surface, and its requests
 *   bypass this filter);
 * - perf_event_open, bpf, unshare, setns, mount, umount2 and friends only with CAP_SYS_ADMIN
 *   (docker lets CAP_PERFMON/CAP_BPF alone open the first two);
 * - userfaultfd, kcmp, process_vm_*, pidfd_getfd only with CAP_SYS_PTRACE;
 * - get_mempolicy, set_mempolicy, mbind, move_pages only with CAP_SYS_NICE;
 * - keyctl, add_key, request_key never (the container also gets its own session keyring);
 * - personality only for the harmless personas (no READ_IMPLIES_EXEC), clone without namespace
 *   flags, clone3 with ENOSYS so that glibc falls back to clone, no AF_VSOCK sockets.
 * ptrace stays allowed on kernels >= 4.8, as in docker (older kernels let it bypass seccomp).
 */
import type { SeccompProfile } from './seccomp.js';

const EPERM = 1;
const ENOSYS = 38;
/** CLONE_NEWNS | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWCGROUP */
const CLONE_NAMESPACES = 0x7e020000;

/** Syscalls every container may make. Unknown names on this arch are skipped at load. */
const ALLOWED = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync
fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync
ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr
llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64
preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read
readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl
semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid
setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit
set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr shmat
shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall
socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs
sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
`.trim().split(/\s+/);

const names = (s: string): string[] => s.trim().split(/\s+/);
const allow = (list: string, caps: string[]): SeccompProfile['syscalls'][number] =>
  ({ names: names(list), action: 'SCMP_ACT_ALLOW', includes: { caps } });

export const DEFAULT_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: [
    // no x32 (docker has it): nearly nothing uses that ABI, and a third arch doubles the filter's load time
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
    { architecture: 'SCMP_ARCH_PPC64LE', subArchitectures: ['SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
  ],
  syscalls: [
    { names: ALLOWED, action: 'SCMP_ACT_ALLOW' },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    {
      names: ['personality'], action: 'SCMP_ACT_ALLOW',
      comment: 'PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32 and the query; never READ_IMPLIES_EXEC',
      args: [0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value) => ({ index: 0, value, op: 'SCMP_CMP_EQ' })),
    },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', comment: 'every family but AF_VSOCK', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    { names: ['arch_prctl', 'modify_ldt'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32', 'x86'] } },
    {
      names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
      action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] },
    },
    { names: ['riscv_flush_icache'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['riscv64'] } },
    { names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390', 's390x'] } },
    {
      names: ['clone'], action: 'SCMP_ACT_ALLOW', comment: 'a new process or thread, never a new namespace',
      args: [{ index: 0, value: CLONE_NAMESPACES, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    {
      names: ['clone'], action: 'SCMP_ACT_ALLOW', comment: 's390 swaps the first two arguments',
      args: [{ index: 1, value: CLONE_NAMESPACES, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS,
      comment: 'its flags are behind a pointer a filter cannot read: ENOSYS makes glibc fall back to clone',
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    allow('clone clone3 bpf perf_event_open fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr '
      + 'move_mount open_tree quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare', ['CAP_SYS_ADMIN']),
    allow('open_by_handle_at', ['CAP_DAC_READ_SEARCH']),
    allow('reboot', ['CAP_SYS_BOOT']),
    allow('chroot', ['CAP_SYS_CHROOT']),
    allow('delete_module init_module finit_module', ['CAP_SYS_MODULE']),
    allow('acct', ['CAP_SYS_PACCT']),
    allow('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace userfaultfd', ['CAP_SYS_PTRACE']),
    allow('iopl ioperm', ['CAP_SYS_RAWIO']),
    allow('settimeofday stime clock_settime clock_settime64', ['CAP_SYS_TIME']),
    allow('vhangup', ['CAP_SYS_TTY_CONFIG']),
    allow('get_mempolicy mbind set_mempolicy set_mempolicy_home_node move_pages', ['CAP_SYS_NICE']),
    allow('syslog', ['CAP_SYSLOG']),
  ],
};
