// The global task registry: every task, listable from any CPU.
//
// The seed's procfs walked other CPUs' run queues to find tasks -- a data race. Here every
// task is linked into one list under the registry's lock when it is spawned and unlinked
// when it is freed; a listing reads only the list and each task's published atomics
// (state, CPU, nice, runtime), never a run queue.
#pragma once

#include <cstdint>

#include "kernel/lock/spinlock.h"
#include "kernel/sched/task.h"

namespace lichen::registry {

// A snapshot of one task, built from published fields only.
struct TaskInfo {
  uint64_t id;
  const char* name;  // valid during the ForEach callback
  TaskState state;
  uint32_t cpu;
  int32_t nice;
  uint64_t runtime_ns;
  uint64_t switches;
  // Host debug builds: the task waits for a flag (sched::DebugNoteWaitFlag) that is set.
  bool wait_flag_set;
};

void Add(Task& task);
void Remove(Task& task);
uint32_t Count();

// Calls `fn(const TaskInfo&)` for every registered task, oldest first, with the registry
// lock held: `fn` must not block or spawn.
template <typename F>
void ForEach(F&& fn);

namespace internal {
using Visitor = void (*)(const TaskInfo& info, void* ctx);
void ForEachImpl(Visitor visitor, void* ctx);
}  // namespace internal

template <typename F>
void ForEach(F&& fn) {
  internal::ForEachImpl([](const TaskInfo& info, void* ctx) { (*static_cast<F*>(ctx))(info); },
                        const_cast<void*>(static_cast<const void*>(&fn)));
}

}  // namespace lichen::registry
