// Processes and threads: creation, references, lookup, the switch hook, reaping.
//
// Exit and signals are in exit.cc, clone in clone.cc, the ELF loader in loader.cc.
#include "kernel/proc/process.h"

#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/lock/rank.h"
#include "kernel/mm/kmem.h"
#include "kernel/proc/internal.h"
#include "kernel/proc/usermem.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/vm/address_space.h"
#include "kernel/vm/asid.h"
#include "lib/assert.h"
#include "lib/log.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"

namespace lichen::proc {

namespace {

LockClass g_process_table_class("proc.table", LockRank::kProcessTable);
LockClass g_process_class("proc.process", LockRank::kProcess);

// Every process not yet reaped, for kill(2) and FindProcess.
struct ProcessTable {
  SpinLock lock{g_process_table_class};
  IntrusiveList<Process, &Process::all_node> all TA_GUARDED(lock);
  uint32_t count TA_GUARDED(lock) = 0;
};
NoDestroy<ProcessTable> g_table;

// pids and tids come from one counter, as in Linux: a process's pid is its first thread's tid.
Atomic<uint32_t> g_next_id{1};

Atomic<const exec::CpioArchive*> g_initramfs{nullptr};

uint32_t NewId() {
  return g_next_id.FetchAdd(1, std::memory_order_relaxed);
}

// The entry of every user thread's task: CLONE_CHILD_SETTID, then user space.
void ThreadEntry(void* arg) {
  Thread* t = static_cast<Thread*>(arg);
  t->task.Store(sched::Current(), std::memory_order_seq_cst);
  // Killed before it ever ran (exit_group right after the clone): it leaves at once. The last
  // check is made with IRQs masked, which EnterUser keeps until its return to EL0, so that
  // exit_group's IPI cannot slip in between (see user::BeforeReturnToUser).
  for (;;) {
    (void)platform::SaveAndMaskIrqs();
    if (!MustExit(*t)) break;
    platform::RestoreIrqs(platform::IrqState{false});
    ExitKilled();
  }
  platform::EnterUser(t->start_regs);
}

void CopyName(char* dst, size_t size, const char* src) {
  size_t i = 0;
  for (; src != nullptr && src[i] != '\0' && i + 1 < size; ++i)
    dst[i] = src[i];
  dst[i] = '\0';
}

// "p<pid>.t<tid>" for the task's name (the registry's listings and traces).
void TaskName(char* out, size_t size, uint32_t pid, uint32_t tid) {
  char digits[2][12];
  uint32_t values[2] = {pid, tid};
  for (int k = 0; k < 2; ++k) {
    char rev[12];
    int n = 0;
    uint32_t v = values[k];
    do {
      rev[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (int i = 0; i < n; ++i)
      digits[k][i] = rev[n - 1 - i];
    digits[k][n] = '\0';
  }
  size_t o = 0;
  auto put = [&](const char* s) {
    for (; *s != '\0' && o + 1 < size; ++s)
      out[o++] = *s;
  };
  put("p");
  put(digits[0]);
  put(".t");
  put(digits[1]);
  out[o] = '\0';
}

#if defined(LICHEN_HOST)
void ResetProcForSimulation() {
  g_next_id.Store(1, std::memory_order_relaxed);
  g_initramfs.Store(nullptr, std::memory_order_relaxed);
  LockGuard<SpinLock> guard(g_table->lock);
  // A run that failed may leave processes behind; their memory went with the heap.
  while (g_table->all.PopFront() != nullptr) {
  }
  g_table->count = 0;
}
const ResetRegistrar g_reset_proc("proc", ResetStage::kAny, &ResetProcForSimulation);
#endif

}  // namespace

Process::Process() : lock(g_process_class) {
  // Linux's defaults for what a static program asks (prlimit64 of RLIMIT_STACK, NOFILE).
  limits[kRlimitStack] = {8u << 20, kRlimInfinity};
  limits[kRlimitNofile] = {kMaxFiles, kMaxFiles};
}

Thread* CurrentThread() {
  return static_cast<Thread*>(sched::Current()->user);
}

void Init() {
  sched::SetSwitchHook(&SwitchUserState);
}

void SwitchUserState(Task* prev, Task* next) {
  Thread* from = static_cast<Thread*>(prev->user);
  Thread* to = static_cast<Thread*>(next->user);
  vm::AddressSpace* next_as = to != nullptr ? to->process->as : nullptr;
  // A kernel task gets no address space: the CPU leaves the user's, so that the rule "freed
  // only once every CPU has left it" is about the switch hook alone (vm::Activate).
  (void)AssumeIrqsOff();  // the scheduler calls the hook with IRQs masked
  vm::Activate(next_as);
  platform::SwitchUserExtState(from != nullptr ? from->ext : nullptr,
                               to != nullptr ? to->ext : nullptr);
}

Result<Process*> CreateProcess(vm::AddressSpace* as, Process* parent, const char* exe) {
  Process* p = LICHEN_TRY(mm::KernelHeap().New<Process>());
  p->pid = NewId();
  p->parent = parent;
  p->as = as;
  p->pgid.Store(parent != nullptr ? parent->pgid.Load(std::memory_order_relaxed) : p->pid,
                std::memory_order_relaxed);
  p->sid.Store(parent != nullptr ? parent->sid.Load(std::memory_order_relaxed) : p->pid,
               std::memory_order_relaxed);
  CopyName(p->exe, sizeof(p->exe), exe);
  {
    LockGuard<SpinLock> guard(p->lock);
    for (int fd = 0; fd < 3; ++fd) {
      p->files[fd].kind = FileKind::kConsole;
      p->files[fd].mode = 0020620;  // a character device, rw--w----, as a tty
    }
  }
  {
    LockGuard<SpinLock> guard(g_table->lock);
    g_table->all.PushBack(*p);
    ++g_table->count;
  }
  LICHEN_LOG_DEBUG("process {} created ({})", p->pid, p->exe);
  return p;
}

Result<uint32_t> SpawnThread(Process* process, const ThreadStart& start) {
  Thread* t = LICHEN_TRY(mm::KernelHeap().New<Thread>());
  // The first thread's tid is the pid (Linux's thread group id).
  bool first = false;
  {
    LockGuard<SpinLock> guard(process->lock);
    first = process->live_threads == 0 && process->dead.Empty();
  }
  t->tid = first ? process->pid : NewId();
  t->process = process;
  t->clear_child_tid = start.clear_child_tid;
  t->start_regs = start.regs;
  t->refs.Store(1, std::memory_order_relaxed);  // the task's
  Thread* parent = CurrentThread();
  if (parent != nullptr && parent->process == process) {
    t->sigmask.Store(parent->sigmask.Load(std::memory_order_relaxed), std::memory_order_relaxed);
    platform::CloneUserExtState(t->ext, start.set_tls, start.tls);
  } else {
    platform::InitUserExtState(t->ext, start.tls);
  }
  if (start.set_child_tid != 0) {
    // CLONE_CHILD_SETTID writes in the child's memory, which is the parent's (CLONE_VM): the
    // write is done before the child can run, as Linux's does before the child returns. A
    // bad pointer is ignored, as Linux ignores it.
    const uint32_t tid = t->tid;
    (void)CopyToUser(*process->as, start.set_child_tid, &tid, sizeof(tid));
  }
  if (start.before_start != nullptr) start.before_start(start.before_start_ctx, t->tid);
  bool exiting = false;
  {
    LockGuard<SpinLock> guard(process->lock);
    // exit_group won the race with this clone: the thread would only be killed. (Checked
    // under the lock that KillProcess marks the threads under, so none is missed.)
    exiting = process->group_exit.Load(std::memory_order_acquire);
    if (!exiting) {
      process->threads.PushBack(*t);
      ++process->live_threads;
    }
  }
  if (exiting) {
    mm::KernelHeap().Delete(t);
    return Error::kBadState;
  }
  GetProcess(process);
  const uint32_t tid = t->tid;
  char name[24];
  TaskName(name, sizeof(name), process->pid, tid);
  sched::SpawnOptions options;
  options.name = name;
  options.entry = &ThreadEntry;
  options.arg = t;
  options.nice = start.nice;
  options.affinity = start.affinity;
  options.user = t;
  options.stack_size = platform::kUserThreadKernelStackSize;
  // Each thread's task is joined when it is reaped (process.h): not detached.
  Result<Task*> task = sched::Spawn(options);
  if (!task.ok()) {
    {
      LockGuard<SpinLock> guard(process->lock);
      process->threads.Remove(*t);
      --process->live_threads;
    }
    PutProcess(process);
    mm::KernelHeap().Delete(t);
    return task.error();
  }
  // The task may already have run, exited and been reaped: `t` is not touched again here
  // (the task stores itself in t->task when it first runs).
  return tid;
}

void GetThread(Thread* t) {
  t->refs.FetchAdd(1, std::memory_order_relaxed);
}

void PutThread(Thread* t) {
  if (t->refs.FetchSub(1, std::memory_order_acq_rel) != 1) return;
  Process* p = t->process;
  mm::KernelHeap().Delete(t);
  PutProcess(p);
}

void GetProcess(Process* p) {
  p->refs.FetchAdd(1, std::memory_order_relaxed);
}

void PutProcess(Process* p) {
  if (p->refs.FetchSub(1, std::memory_order_acq_rel) != 1) return;
  LICHEN_LOG_DEBUG("process {} freed", p->pid);
  // Every thread is reaped: no CPU is on the address space through them any more; CPUs that
  // still have it active hold references of their own (vm::Activate).
  if (p->as != nullptr) p->as->Put();
  mm::KernelHeap().Delete(p);
}

Thread* FindThread(uint32_t tid) {
  Thread* self = CurrentThread();
  if (self == nullptr) return nullptr;
  if (tid == 0 || tid == self->tid) {
    GetThread(self);
    return self;
  }
  Process* p = self->process;
  LockGuard<SpinLock> guard(p->lock);
  for (Thread* t = p->threads.Front(); t != nullptr; t = p->threads.Next(*t)) {
    if (t->tid == tid) {
      GetThread(t);
      return t;
    }
  }
  return nullptr;
}

Process* FindProcess(uint32_t pid) {
  LockGuard<SpinLock> guard(g_table->lock);
  for (Process* p = g_table->all.Front(); p != nullptr; p = g_table->all.Next(*p)) {
    if (p->pid == pid) {
      GetProcess(p);
      return p;
    }
  }
  return nullptr;
}

size_t ListPids(uint32_t after, uint32_t* out, size_t cap) {
  // The list is in creation order, which is almost pid order (two creators may push in the
  // other order than they drew their ids): keep the `cap` smallest ids above `after`, sorted,
  // by insertion.
  size_t n = 0;
  LockGuard<SpinLock> guard(g_table->lock);
  for (Process* p = g_table->all.Front(); p != nullptr; p = g_table->all.Next(*p)) {
    if (p->pid <= after || cap == 0) continue;
    if (n == cap && p->pid >= out[n - 1]) continue;
    size_t i = n < cap ? n++ : n - 1;
    while (i > 0 && out[i - 1] > p->pid) {
      out[i] = out[i - 1];
      --i;
    }
    out[i] = p->pid;
  }
  return n;
}

uint32_t LiveProcesses() {
  LockGuard<SpinLock> guard(g_table->lock);
  return g_table->count;
}

// Joins the tasks of `p`'s exited threads and drops their references. Each was on the dead
// list only after its last look at the process, and Join waits until no CPU runs on its stack.
void ReapDeadThreads(Process* p) {
  for (;;) {
    Thread* t = nullptr;
    {
      LockGuard<SpinLock> guard(p->lock);
      t = p->dead.PopFront();
    }
    if (t == nullptr) return;
    sched::Join(t->task.Load(std::memory_order_acquire));
    PutThread(t);
  }
}

int WaitExit(Process* p) {
  sched::Wait([p] {
    LockGuard<SpinLock> guard(p->lock);
    if (p->zombie) return true;
    p->reaper = sched::Current();
    return false;
  });
  ReapDeadThreads(p);
  int status = 0;
  {
    LockGuard<SpinLock> guard(p->lock);
    status = p->status;
    p->reaper = nullptr;
  }
  {
    LockGuard<SpinLock> guard(g_table->lock);
    g_table->all.Remove(*p);
    --g_table->count;
  }
  LICHEN_LOG_DEBUG("process {} reaped, status {:#x}", p->pid, status);
  PutProcess(p);
  return status;
}

const exec::CpioArchive* Initramfs() {
  return g_initramfs.Load(std::memory_order_acquire);
}

void SetInitramfs(const exec::CpioArchive* archive) {
  g_initramfs.Store(archive, std::memory_order_release);
}

}  // namespace lichen::proc
