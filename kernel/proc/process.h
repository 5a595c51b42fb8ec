// Processes and threads: what a Linux program is made of, on top of the scheduler's tasks.
//
// A Process owns an address space (kernel/vm), a small file table, signal actions, limits
// and, once it is over, its exit status. A Thread is one scheduler Task (Task::user points at
// it) plus what Linux keeps per thread: the tid, clear_child_tid, the robust list, the signal
// mask, the alternate signal stack and the platform's user register state (UserExtState).
// The scheduler knows nothing of either: threads are ordinary tasks, so EEVDF, placement and
// stealing apply to them unchanged, and the one place the scheduler calls back is the switch
// hook (SwitchUserState below), where a CPU enters and leaves address spaces.
//
// Lifetimes (docs/process.md):
// - A Thread is referenced by its task (until the task is reaped) and by whoever looked it up
//   (tgkill, sched_setaffinity: GetThread/PutThread). A thread that exits becomes a zombie on
//   its process's dead list; its Task is joined (sched::Join: no CPU runs on its stack any
//   more, and the switch hook has moved that CPU off the address space) by the next thread
//   of the process that exits, or by whoever reaps the process. Only then is its reference
//   dropped.
// - A Process is referenced by each of its threads, by its parent (until reaped: WaitExit)
//   and by lookups. The last reference releases the address space (vm::AddressSpace::Put),
//   whose own references, one per CPU that has it active, keep the page tables alive until
//   every CPU has switched away.
//
// Exit: exit(2) ends one thread; exit_group(2) and fatal signals end every thread of the
// process: each sibling gets its kill flag, is interrupted out of interruptible waits
// (sched::Interrupt), and a sibling running user code on another CPU is made to enter the
// kernel at once by an IPI to that CPU; it leaves in user::BeforeReturnToUser. The last
// thread out records the process's status and wakes its reaper.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/base/platform_user.h"
#include "kernel/exec/cpio.h"
#include "kernel/lock/spinlock.h"
#include "kernel/sched/task.h"
#include "kernel/user/regs.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/list.h"
#include "lib/result.h"

namespace lichen::vm {
class AddressSpace;
}

namespace lichen::proc {

struct Process;

// Signals, Linux's numbers (arm64 uses the generic ones).
inline constexpr int kSigHup = 1;
inline constexpr int kSigInt = 2;
inline constexpr int kSigQuit = 3;
inline constexpr int kSigIll = 4;
inline constexpr int kSigTrap = 5;
inline constexpr int kSigAbrt = 6;
inline constexpr int kSigBus = 7;
inline constexpr int kSigFpe = 8;
inline constexpr int kSigKill = 9;
inline constexpr int kSigUsr1 = 10;
inline constexpr int kSigSegv = 11;
inline constexpr int kSigUsr2 = 12;
inline constexpr int kSigPipe = 13;
inline constexpr int kSigAlrm = 14;
inline constexpr int kSigTerm = 15;
inline constexpr int kSigStkflt = 16;
inline constexpr int kSigChld = 17;
inline constexpr int kSigCont = 18;
inline constexpr int kSigStop = 19;
inline constexpr int kSigTstp = 20;
inline constexpr int kSigTtin = 21;
inline constexpr int kSigTtou = 22;
inline constexpr int kSigUrg = 23;
inline constexpr int kSigXcpu = 24;
inline constexpr int kSigXfsz = 25;
inline constexpr int kSigVtalrm = 26;
inline constexpr int kSigProf = 27;
inline constexpr int kSigWinch = 28;
inline constexpr int kSigIo = 29;
inline constexpr int kSigPwr = 30;
inline constexpr int kSigSys = 31;
inline constexpr int kNumSignals = 64;  // 1..64, as Linux's _NSIG

constexpr uint64_t SigBit(int sig) {
  return uint64_t{1} << (sig - 1);
}

// A signal's default action (signal(7)).
enum class DefaultAction : uint8_t { kTerminate, kCoreDump, kIgnore, kStop, kContinue };
DefaultAction DefaultActionOf(int sig);

// struct sigaction as rt_sigaction passes it on arm64 (the kernel's k_sigaction).
struct SigAction {
  uint64_t handler = 0;  // SIG_DFL 0, SIG_IGN 1, or a function
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};
inline constexpr uint64_t kSigDfl = 0;
inline constexpr uint64_t kSigIgn = 1;

// stack_t (sigaltstack): ss_sp, ss_flags (int, padded), ss_size.
struct SigAltStack {
  uint64_t sp = 0;
  int32_t flags = 0;
  int32_t pad = 0;
  uint64_t size = 0;
};
inline constexpr int32_t kSsOnStack = 1;
inline constexpr int32_t kSsDisable = 2;
inline constexpr uint64_t kMinSigStackSize = 5120;  // arm64's MINSIGSTKSZ

// The wait status Linux's wait4 reports (and what the parent learns).
constexpr int ExitedStatus(int code) {
  return (code & 0xff) << 8;
}
constexpr int SignaledStatus(int sig) {
  return sig & 0x7f;
}
constexpr bool StatusExited(int status) {
  return (status & 0x7f) == 0;
}
constexpr int StatusExitCode(int status) {
  return (status >> 8) & 0xff;
}
constexpr int StatusSignal(int status) {
  return status & 0x7f;
}
// The shell's convention for the status a machine reports: the code, or 128 + the signal.
constexpr int ShellStatus(int status) {
  return StatusExited(status) ? StatusExitCode(status) : 128 + StatusSignal(status);
}

// ---- Files --------------------------------------------------------------------------------------

inline constexpr int kMaxFiles = 64;

enum class FileKind : uint8_t { kNone, kConsole, kNull, kRegular, kDirectory };

// One open file description. Threads share the table (CLONE_FILES is the only kind there is),
// so a slot is changed under the process's lock.
struct File {
  FileKind kind = FileKind::kNone;
  bool cloexec = false;
  const uint8_t* data = nullptr;  // a regular file's bytes, in the initramfs
  uint64_t size = 0;
  uint64_t offset = 0;
  uint32_t mode = 0;  // st_mode (type and permissions)
  uint32_t ino = 0;
  uint32_t rdev = 0;        // a device's number (new encoding: major << 8 | minor)
  uint32_t open_flags = 0;  // O_ACCMODE and the status flags F_GETFL reports
  uint32_t mtime = 0;
  // A directory's name as the initramfs spells it (a view into the archive), for paths
  // relative to it (openat with a directory fd).
  const char* name = nullptr;
  uint32_t name_len = 0;
};

// ---- Resource limits ----------------------------------------------------------------------

inline constexpr int kRlimitCount = 16;  // RLIMIT_CPU .. RLIMIT_RTTIME
inline constexpr int kRlimitStack = 3;
inline constexpr int kRlimitNofile = 7;
inline constexpr uint64_t kRlimInfinity = ~uint64_t{0};
struct Rlimit {
  uint64_t cur = kRlimInfinity;
  uint64_t max = kRlimInfinity;
};

// ---- Threads ------------------------------------------------------------------------------------

struct Thread {
  // Its task, stored by the task itself when it first runs (null before: nothing to
  // interrupt yet, and the thread checks its kill flag right after storing it).
  Atomic<Task*> task{nullptr};
  Process* process = nullptr;
  uint32_t tid = 0;

  // set_tid_address / CLONE_CHILD_CLEARTID: at exit, 0 is written there and one waiter woken.
  uintptr_t clear_child_tid = 0;
  // set_robust_list: the head, walked at exit (docs/process.md).
  uintptr_t robust_list = 0;
  size_t robust_list_len = 0;
  // Blocked signals (rt_sigprocmask). SIGKILL and SIGSTOP are never in it.
  Atomic<uint64_t> sigmask{0};
  SigAltStack altstack;

  // Set when the thread must leave at its next return to user space: exit_group by a
  // sibling, or a fatal signal. Read in user::BeforeReturnToUser.
  Atomic<bool> killed{false};
  // The thread has begun to exit (ExitThread): nothing may ask it to again.
  bool exiting = false;

  // What the thread's first entry into EL0 loads (the spawner fills it).
  UserRegs start_regs{};
  // The platform's state (FP/SIMD, TPIDR_EL0), opaque here.
  alignas(platform::kUserExtStateAlign) uint8_t ext[platform::kUserExtStateSize] = {};

  // On the process's `threads` list while it lives, then on its `dead` list until reaped.
  ListNode node;
  Atomic<uint32_t> refs{1};
};

// ---- Processes ----------------------------------------------------------------------------------

struct Process {
  uint32_t pid = 0;
  Process* parent = nullptr;  // null for init
  // Process group and session (setpgid, setsid; job control). A new process inherits its
  // parent's; init's are its pid. Atomic: kill(-pgid) and the terminal read them from any CPU.
  Atomic<uint32_t> pgid{0};
  Atomic<uint32_t> sid{0};
  vm::AddressSpace* as = nullptr;

  // Guards the lists, the counts, the files, the actions, the limits and the status.
  SpinLock lock;
  IntrusiveList<Thread, &Thread::node> threads TA_GUARDED(lock);
  IntrusiveList<Thread, &Thread::node> dead TA_GUARDED(lock);
  uint32_t live_threads TA_GUARDED(lock) = 0;
  File files[kMaxFiles] TA_GUARDED(lock);
  SigAction actions[kNumSignals] TA_GUARDED(lock);
  Rlimit limits[kRlimitCount] TA_GUARDED(lock);
  // Signals sent to the process that it could not take yet (blocked, or a handler this
  // kernel does not run: docs/process.md).
  uint64_t pending TA_GUARDED(lock) = 0;

  // The group is exiting (exit_group, a fatal signal): the status is decided.
  Atomic<bool> group_exit{false};
  int group_status TA_GUARDED(lock) = 0;
  // Every thread has exited: `status` is final and the reaper may take the process.
  bool zombie TA_GUARDED(lock) = false;
  int status TA_GUARDED(lock) = 0;
  Task* reaper TA_GUARDED(lock) = nullptr;  // waiting in WaitExit
  // Job control: a stop or continue the parent has not collected yet with wait4 (WUNTRACED,
  // WCONTINUED): 0 for none, else the wait status (0x7f | sig << 8 stopped, 0xffff continued).
  int stop_report TA_GUARDED(lock) = 0;

  // CPU time of threads already gone, for times(2) and getrusage(2).
  uint64_t dead_runtime_ns TA_GUARDED(lock) = 0;
  // The program's path (readlinkat of /proc/self/exe, AT_EXECFN).
  char exe[128] = {};

  ListNode all_node;  // on the global process list
  Atomic<uint32_t> refs{1};

  Process();
};

// ---- The API ---------------------------------------------------------------------------------

// The thread of the calling task, or null for a kernel task.
Thread* CurrentThread();
inline Process* CurrentProcess() {
  Thread* t = CurrentThread();
  return t != nullptr ? t->process : nullptr;
}

// Installs the scheduler's switch hook. Once, at boot (idempotent).
void Init();

// The switch hook (sched::SetSwitchHook): moves this CPU to next's address space (or to none
// for a kernel task) and switches the platform's user state.
void SwitchUserState(Task* prev, Task* next);

// Creates a process with one reference (the caller's, which WaitExit consumes) around `as`
// (whose reference it takes over), with fds 0, 1 and 2 on the console. Its first thread
// comes from SpawnThread.
Result<Process*> CreateProcess(vm::AddressSpace* as, Process* parent, const char* exe);

// Creates a thread of `process` that enters user space with `regs` and TPIDR_EL0 = `tls`,
// and starts it. kBadState when the process is already exiting.
struct ThreadStart {
  UserRegs regs{};
  // TPIDR_EL0. A thread cloned by a thread of the same process copies its creator's user
  // state (FP/SIMD, TPIDR_EL0), with `tls` only when set_tls (CLONE_SETTLS).
  uint64_t tls = 0;
  bool set_tls = true;
  // Called with the new tid before the thread can run (CLONE_PARENT_SETTID); may be null.
  void (*before_start)(void* ctx, uint32_t tid) = nullptr;
  void* before_start_ctx = nullptr;
  uintptr_t clear_child_tid = 0;
  uintptr_t set_child_tid = 0;  // CLONE_CHILD_SETTID: the child writes its tid here first
  CpuMask affinity = CpuMask::FirstN(kMaxCpus);
  int nice = 0;
};
// Returns the new tid (the thread may have run and exited by then).
Result<uint32_t> SpawnThread(Process* process, const ThreadStart& start);

// References.
void GetThread(Thread* t);
void PutThread(Thread* t);
void GetProcess(Process* p);
void PutProcess(Process* p);

// A thread of the calling process (tid == 0: the caller), with a reference; null if none.
Thread* FindThread(uint32_t tid);
// A live process by pid, with a reference; null if none.
Process* FindProcess(uint32_t pid);

// exit(2): ends the calling thread. The process ends with ExitedStatus(code) if it was the
// last one (and no exit_group decided otherwise).
[[noreturn]] void ExitThread(int code);
// exit_group(2): ends every thread of the calling process with ExitedStatus(code).
[[noreturn]] void ExitGroup(int code);
// Ends every thread of `p` with `status` (a wait status) unless the group already exits.
// Returns at once; the threads leave at their next return to user space.
void KillProcess(Process* p, int status);
// Delivers `sig` to `p` (kill) or to one thread (tgkill: `target` non-null): its default
// action if that ends the process, nothing if ignored, pending otherwise. 0 or -errno.
int64_t SendSignal(Process* p, Thread* target, int sig);

// After the calling thread's signal mask changed (rt_sigprocmask): a pending signal it no
// longer blocks whose default action ends the process does so now.
void DeliverUnblocked(Thread& t);
// A fault `t` cannot continue from (SIGSEGV, SIGBUS, SIGILL...): ends its process with `sig`
// whatever the mask and actions say (Linux's force_sig, with no handler to run).
void ForceSignal(Thread& t, int sig);

// Waits until every thread of `p` has exited, reaps them, and returns the wait status. Drops
// the caller's reference (from CreateProcess): `p` is gone after it.
int WaitExit(Process* p);

// What user::BeforeReturnToUser asks: the calling thread must leave now.
bool MustExit(const Thread& t);
// Leaves for a kill (the group's status is already decided). Never returns.
[[noreturn]] void ExitKilled();

// The initramfs (StartInit sets it): what openat looks files up in.
const exec::CpioArchive* Initramfs();
void SetInitramfs(const exec::CpioArchive* archive);

// The pids of live (not yet reaped) processes greater than `after`, in increasing order, at
// most `cap` of them, into `out`; returns how many. For /proc's listing: call again with the
// last pid returned to go on.
size_t ListPids(uint32_t after, uint32_t* out, size_t cap);

// Number of processes alive (not yet reaped), for tests and power-off.
uint32_t LiveProcesses();

}  // namespace lichen::proc
