// Ending threads and processes: exit, exit_group, fatal signals, and what a thread does on
// its way out (the robust list, CLONE_CHILD_CLEARTID).
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/futex/futex.h"
#include "kernel/proc/internal.h"
#include "kernel/proc/process.h"
#include "kernel/proc/usermem.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/vm/address_space.h"
#include "lib/assert.h"
#include "lib/log.h"

namespace lichen::proc {

namespace {

// The robust futex protocol's bits in the lock word (<linux/futex.h>).
constexpr uint32_t kFutexWaiters = 0x80000000;
constexpr uint32_t kFutexTidMask = 0x3fffffff;
// Linux's ROBUST_LIST_LIMIT: a list longer than this (or circular) is abandoned.
constexpr int kRobustListLimit = 2048;
// struct robust_list_head: the list (one pointer), futex_offset, list_op_pending.
constexpr size_t kRobustListHeadSize = 24;

// One lock of the robust list: if the dead thread owns it, mark the owner dead and wake one
// waiter (Linux's handle_futex_death).
void HandleFutexDeath(Thread& t, uintptr_t uaddr) {
  if (uaddr % 4 != 0) return;
  vm::AddressSpace& as = *t.process->as;
  uint32_t old = 0;
  if (!MarkOwnerDied(as, uaddr, t.tid, &old)) return;
  if ((old & kFutexTidMask) != t.tid) return;  // not ours (any more): left alone
  if ((old & kFutexWaiters) != 0) {
    futex::Args args;
    args.uaddr = uaddr;
    args.op = futex::kWake;
    args.val = 1;
    futex::Futex(FutexSpaceOf(*t.process), FutexMemoryOf(as), args);
  }
}

// Walks the thread's robust list (set_robust_list) as Linux's exit_robust_list does: every
// lock the thread still holds is marked FUTEX_OWNER_DIED and one waiter is woken, so a
// PTHREAD_MUTEX_ROBUST waiter gets EOWNERDEAD instead of waiting forever. Bad pointers end
// the walk quietly.
void ExitRobustList(Thread& t) {
  if (t.robust_list == 0 || t.robust_list_len != kRobustListHeadSize) return;
  vm::AddressSpace& as = *t.process->as;
  struct {
    uint64_t next;
    int64_t futex_offset;
    uint64_t pending;
  } head;
  if (!CopyFromUser(as, &head, t.robust_list, sizeof(head))) return;
  // Bit 0 of a list pointer flags a PI futex; PI futexes are not supported (ENOSYS), so the
  // bit only has to be masked off.
  uint64_t entry = head.next & ~uint64_t{1};
  const uint64_t pending = head.pending & ~uint64_t{1};
  for (int n = 0; entry != t.robust_list && n < kRobustListLimit; ++n) {
    uint64_t next = 0;
    if (!CopyFromUser(as, &next, entry, sizeof(next))) return;
    // The pending lock is handled last, once (it may also be on the list).
    if (entry != pending) HandleFutexDeath(t, entry + head.futex_offset);
    entry = next & ~uint64_t{1};
  }
  if (pending != 0) HandleFutexDeath(t, pending + head.futex_offset);
}

// CLONE_CHILD_CLEARTID / set_tid_address: 0 at the address and one waiter woken, which is
// how pthread_join learns the thread is gone. A shared futex, as Linux's (glibc waits on it
// without FUTEX_PRIVATE_FLAG). A bad address is ignored.
void ClearChildTid(Thread& t) {
  if (t.clear_child_tid == 0) return;
  vm::AddressSpace& as = *t.process->as;
  const uint32_t zero = 0;
  if (!CopyToUser(as, t.clear_child_tid, &zero, sizeof(zero))) return;
  futex::Args args;
  args.uaddr = t.clear_child_tid;
  args.op = futex::kWake;
  args.val = 1;
  futex::Futex(FutexSpaceOf(*t.process), FutexMemoryOf(as), args);
}

// Makes the CPUs in `cpus` (other than this one) take an interrupt now, so that a thread
// running user code there enters the kernel and meets its kill flag on the way back.
void KickCpus(CpuMask cpus) {
  IrqGuard guard;
  cpus.Clear(platform::ThisCpu());
  if (!cpus.Empty()) platform::SendIpi(cpus);
}

}  // namespace

bool MustExit(const Thread& t) {
  return t.killed.Load(std::memory_order_acquire) ||
         t.process->group_exit.Load(std::memory_order_acquire);
}

void ExitThread(int code) {
  Thread* t = CurrentThread();
  LICHEN_ASSERT(t != nullptr, "ExitThread from a kernel task");
  LICHEN_ASSERT(!t->exiting, "thread {} exits twice", t->tid);
  t->exiting = true;
  Process* p = t->process;
  LICHEN_LOG_DEBUG("process {} thread {} exits ({})", p->pid, t->tid,
                   t->killed.Load(std::memory_order_relaxed) ? "killed" : "exit");
  // As Linux's exit_mm: the robust list first, then clear_child_tid (a joiner that wakes may
  // free the thread's stack, where glibc keeps the robust list head).
  ExitRobustList(*t);
  ClearChildTid(*t);
  // Siblings that died before us: their tasks are (nearly) switched out for good.
  ReapDeadThreads(p);
  const uint64_t runtime = sched::CurrentRuntimeNs();
  {
    LockGuard<SpinLock> guard(p->lock);
    p->threads.Remove(*t);
    p->dead.PushBack(*t);
    p->dead_runtime_ns += runtime;
    LICHEN_ASSERT(p->live_threads > 0, "process {} has no live thread", p->pid);
    if (--p->live_threads == 0) {
      p->zombie = true;
      p->status =
          p->group_exit.Load(std::memory_order_relaxed) ? p->group_status : ExitedStatus(code);
      // The reaper reads `zombie` under this lock: it cannot return before this wake is done.
      if (p->reaper != nullptr) sched::Wake(p->reaper);
      LICHEN_LOG_DEBUG("process {} exited, status {:#x}", p->pid, p->status);
    }
  }
  // From here on only the task's own stack is used; the reaper joins it.
  sched::Exit();
}

void ExitGroup(int code) {
  Thread* t = CurrentThread();
  LICHEN_ASSERT(t != nullptr, "ExitGroup from a kernel task");
  KillProcess(t->process, ExitedStatus(code));
  ExitThread(code);
}

void ExitKilled() {
  ExitThread(0);  // the group's status is decided: the code is not used
}

void KillProcess(Process* p, int status) {
  Thread* self = CurrentThread();
  CpuMask running;
  {
    LockGuard<SpinLock> guard(p->lock);
    if (!p->group_exit.Load(std::memory_order_relaxed)) {
      p->group_status = status;
      p->group_exit.Store(true, std::memory_order_seq_cst);
    }
    for (Thread* t = p->threads.Front(); t != nullptr; t = p->threads.Next(*t)) {
      if (t == self) continue;
      // seq_cst, before reading where the thread is: either the thread reads the flag on
      // its way back to user space, or it is running (user code, maybe) and we see it.
      t->killed.Store(true, std::memory_order_seq_cst);
      // Out of interruptible waits (futex, nanosleep): they return EINTR and the thread
      // leaves on its way back to user space.
      Task* task = t->task.Load(std::memory_order_seq_cst);
      if (task == nullptr) continue;  // not started: it sees the flag when it does
      sched::Interrupt(task);
      LICHEN_LOG_DEBUG("kill process {}: thread {} is {} on CPU {}", p->pid, t->tid,
                       TaskStateName(task->state.Load(std::memory_order_relaxed)),
                       task->cpu.Load(std::memory_order_relaxed));
      if (task->state.Load(std::memory_order_seq_cst) == TaskState::kRunning) {
        running.Set(task->cpu.Load(std::memory_order_relaxed));
      }
    }
  }
  // A sibling running on another CPU enters the kernel now (an IPI), not at its next timer
  // interrupt, which a tickless CPU running one task may never take.
  KickCpus(running);
}

}  // namespace lichen::proc
