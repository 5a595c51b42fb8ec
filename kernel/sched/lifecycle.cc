// Task lifecycle: how is a task created, and how does it end and get freed?
//
// Owns task ids, Spawn (the Task, its stack, and its first steps in TaskTrampoline), Exit,
// Join and FreeTask, and the Task helpers task.h declares. The last step of an exit is in
// FinishSwitch (switch.cc): a task may be freed only once no CPU runs on its stack.
#include "kernel/base/platform_stack.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "lib/assert.h"
#include "lib/container_of.h"
#include "lib/log.h"

namespace lichen {
LockClass g_task_join_class("sched.task_join", LockRank::kTaskJoin);
}  // namespace lichen

namespace lichen::sched {

namespace {

Atomic<uint64_t> g_next_task_id{1};

// Copies at most sizeof(name)-1 characters.
void SetName(Task& task, const char* name) {
  size_t i = 0;
  for (; name != nullptr && name[i] != '\0' && i + 1 < sizeof(task.name); ++i) {
    task.name[i] = name[i];
  }
  task.name[i] = '\0';
}

}  // namespace

// Frees a task that no CPU uses any more (exited and switched away from for good).
void FreeTask(Task* task) {
  registry::Remove(*task);
  platform::FreeTaskStack(task->stack, task->stack_size);
  mm::KernelHeap().Delete(task);
}

namespace {

// The first code every spawned task runs (platform::InitContext's entry).
void TaskTrampoline(void* arg) {
  Task* task = static_cast<Task*>(arg);
  FinishSwitch(AssumeIrqsOff());
  platform::RestoreIrqs(platform::IrqState{false});
  task->entry(task->arg);
  Exit();
}

}  // namespace

Result<Task*> Spawn(const SpawnOptions& options) {
  if (options.entry == nullptr) return Error::kInvalidArgument;
  const CpuMask allowed = options.affinity & OnlineCpus();
  if (allowed.Empty()) return Error::kInvalidArgument;
  Task* task = LICHEN_TRY(mm::KernelHeap().New<Task>());
  const size_t stack_size =
      platform::TaskStackBytes(options.stack_size != 0 ? options.stack_size : kDefaultStackSize);
  // The platform places the stack (aarch64: with an unmapped guard page below it).
  Result<void*> stack = platform::AllocTaskStack(stack_size);
  if (!stack.ok()) {
    mm::KernelHeap().Delete(task);
    return stack.error();
  }
  task->id = g_next_task_id.FetchAdd(1, std::memory_order_relaxed);
  SetName(*task, options.name);
  task->entry = options.entry;
  task->arg = options.arg;
  task->affinity_bits.Store(options.affinity.bits(), std::memory_order_relaxed);
  task->detached = options.detached;
  task->user = options.user;
  task->stack = stack.value();
  task->stack_size = stack_size;
  task->se.id = task->id;
  task->se.SetNice(options.nice);
  task->requested_nice.Store(task->se.nice, std::memory_order_relaxed);
  task->published_nice.Store(task->se.nice, std::memory_order_relaxed);
  if (options.slice_ns != 0) task->se.SetSliceNs(options.slice_ns);
  // A user task's slice request starts at 0 (the base slice) and CommitSwitch compares it with
  // the entity's: a user task spawned with its own slice would lose it at its first switch.
  // (Stored only then, so that other spawns keep their simulator interleavings.)
  if (options.user != nullptr && options.slice_ns != 0) {
    task->requested_slice_ns.Store(task->se.slice_ns, std::memory_order_relaxed);
  }
  platform::InitContext(task->context, task->stack, task->stack_size, &TaskTrampoline, task);
  task->state.Store(TaskState::kRunnable, std::memory_order_relaxed);
  {
    IrqGuard guard;
    task->cpu.Store(platform::ThisCpu(), std::memory_order_relaxed);
  }
  registry::Add(*task);
  LICHEN_LOG_TRACE("spawn task {} '{}' nice {}", task->id, task->name, options.nice);
  SendToCpu(*task, Transit::kNew);
  return task;
}

void Join(Task* task) {
  LICHEN_ASSERT(!task->detached, "Join() on detached task {}", task->id);
  Wait([task] {
    LockGuard<SpinLock> guard(task->join_lock);
    if (task->exit_done) return true;
    task->joiner = Current();
    return false;
  });
  FreeTask(task);
}

void Exit() {
  {
    IrqGuard guard;
    Current()->state.Store(TaskState::kExiting, std::memory_order_release);
    ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
  }
  LICHEN_PANIC("an exited task was switched back in");
}

#if defined(LICHEN_HOST)
void ResetTaskIdsForSimulation() {
  g_next_task_id.Store(1, std::memory_order_relaxed);
}
#endif

}  // namespace lichen::sched

namespace lichen {

Task& TaskOf(sched::SchedEntity& se) {
  return *ContainerOf<Task, sched::SchedEntity, &Task::se>(&se);
}

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kRunnable:
      return "runnable";
    case TaskState::kRunning:
      return "running";
    case TaskState::kBlocking:
      return "blocking";
    case TaskState::kWokenWhileRunning:
      return "woken-while-running";
    case TaskState::kSleeping:
      return "sleeping";
    case TaskState::kExiting:
      return "exiting";
    case TaskState::kExited:
      return "exited";
  }
  return "?";
}

}  // namespace lichen
