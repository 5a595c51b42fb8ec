#include "kernel/sched/registry.h"

#include <new>

#include "lib/list.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"

namespace lichen::registry {

namespace {

LockClass g_registry_class("sched.registry", LockRank::kRegistry);

struct Registry {
  IntrusiveList<Task, &Task::registry_node> tasks;
};
NoDestroy<SpinLockProtected<Registry>> g_registry(g_registry_class);

}  // namespace

void Add(Task& task) {
  g_registry->With([&](Registry& r) { r.tasks.PushBack(task); });
}

void Remove(Task& task) {
  g_registry->With([&](Registry& r) { r.tasks.Remove(task); });
}

uint32_t Count() {
  return g_registry->With([](Registry& r) { return static_cast<uint32_t>(r.tasks.Size()); });
}

void internal::ForEachImpl(Visitor visitor, void* ctx) {
  g_registry->With([&](Registry& r) {
    for (Task& task : r.tasks) {
      const Atomic<bool>* flag = task.debug_wait_flag.Load(std::memory_order_relaxed);
      const TaskInfo info{
          task.id,
          task.name,
          task.state.Load(std::memory_order_acquire),
          task.cpu.Load(std::memory_order_relaxed),
          task.published_nice.Load(std::memory_order_relaxed),
          task.published_runtime_ns.Load(std::memory_order_relaxed),
          task.published_switches.Load(std::memory_order_relaxed),
          flag != nullptr && flag->Load(std::memory_order_relaxed),
      };
      visitor(info, ctx);
    }
  });
}

#if defined(LICHEN_HOST)
namespace {
void ResetRegistry() {
  g_registry.Reset(g_registry_class);
}
const ResetRegistrar g_reset_registry("registry", ResetStage::kAny, &ResetRegistry);
}  // namespace
#endif

}  // namespace lichen::registry
