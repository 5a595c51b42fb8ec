// The task registry (DESIGN row 5): listing every task from any CPU, from published fields
// only, while the tasks run, sleep and exit on other CPUs.
#include "kernel/sched/registry.h"
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "ktests/ktest.h"
#include "lib/units.h"
#include "platform/aarch64/boot_info.h"
#include "workloads/workloads.h"

namespace lichen::ktest {

namespace {

constexpr uint32_t kMaxTestCpus = BootInfo::kMaxCpus;

struct RegistryBurner {
  Atomic<bool>* stop;
  Atomic<uint32_t>* started;
};

void RegistryBurnerBody(void* p) {
  auto* burner = static_cast<RegistryBurner*>(p);
  burner->started->FetchAdd(1, std::memory_order_relaxed);
  while (!burner->stop->Load(std::memory_order_relaxed))
    workload::Burn(200 * kUs);
}

void RegistrySleeperBody(void* p) {
  BlockUntilSet(*static_cast<Atomic<bool>*>(p));
}

// What the listing said about one task.
struct Listed {
  uint64_t id = 0;
  uint32_t times = 0;
  TaskState state = TaskState::kExited;
  uint32_t cpu = ~0u;
  bool name_ok = false;
};

}  // namespace

// One burner pinned to each CPU and one sleeper: every one is listed exactly once, with its
// name, a plausible state and the CPU it is pinned to; each CPU publishes its burner as its
// current task; and once joined, none of them is listed any more.
KTEST(registry_lists_tasks) {
  const uint32_t n = Cpus();
  Atomic<bool> stop{false};
  Atomic<uint32_t> started{0};
  Atomic<bool> wake_sleeper{false};
  RegistryBurner burners[kMaxTestCpus];
  Task* tasks[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    burners[cpu] = RegistryBurner{&stop, &started};
    tasks[cpu] = Spawn("reg-burner", &RegistryBurnerBody, &burners[cpu], CpuMask::Single(cpu));
  }
  Task* sleeper = Spawn("reg-sleeper", &RegistrySleeperBody, &wake_sleeper, CpuMask::Single(n - 1));
  WaitFor(
      [&] {
        return started.Load(std::memory_order_relaxed) == n &&
               sleeper->state.Load(std::memory_order_acquire) == TaskState::kSleeping;
      },
      WaitLimitNs(), "the burners to start and the sleeper to sleep");

  // Each CPU's published current task is, at some moment, its burner. The CPU this task
  // samples from publishes this task instead (it is running the sampling): there it must be
  // this task, and the burner must have been switched in at some point.
  const uint64_t self = sched::Current()->id;
  uint64_t seen_running = 0;
  WaitFor(
      [&] {
        IrqGuard guard;  // stay on one CPU while sampling
        const uint32_t here = platform::ThisCpu();
        for (uint32_t cpu = 0; cpu < n; ++cpu) {
          const uint64_t current = Shared(cpu).current_task_id.Load(std::memory_order_relaxed);
          const bool ok = cpu == here ? current == self && tasks[cpu]->published_switches.Load(
                                                               std::memory_order_relaxed) > 0
                                      : current == tasks[cpu]->id;
          if (ok) seen_running |= uint64_t{1} << cpu;
        }
        return seen_running == CpuMask::FirstN(n).bits();
      },
      WaitLimitNs(), "every CPU to publish its burner as its current task", 100 * kUs);

  Listed listed[kMaxTestCpus + 2];
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    listed[cpu].id = tasks[cpu]->id;
  listed[n].id = sleeper->id;
  listed[n + 1].id = self;
  uint32_t total = 0;
  uint32_t bad_cpu = 0;
  uint32_t self_cpu_mismatch = 0;
  registry::ForEach([&](const registry::TaskInfo& info) {
    ++total;
    if (info.cpu >= n) ++bad_cpu;
    for (uint32_t i = 0; i < n + 2; ++i) {
      if (listed[i].id != info.id) continue;
      ++listed[i].times;
      listed[i].state = info.state;
      listed[i].cpu = info.cpu;
      const char* want = i < n ? "reg-burner" : (i == n ? "reg-sleeper" : "registry_lists_tasks");
      listed[i].name_ok = std::string_view(info.name) == want;
      // The listing holds an IRQ-masking lock: this task cannot move while it runs.
      if (i == n + 1 && info.cpu != platform::ThisCpu()) ++self_cpu_mismatch;
    }
  });
  KTEST_CHECK(bad_cpu == 0, "{} tasks listed with a CPU beyond the {} online", bad_cpu, n);
  KTEST_CHECK(total >= n + 3, "only {} tasks listed (burners, sleeper, this test, init)", total);
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    const Listed& l = listed[cpu];
    KTEST_CHECK(l.times == 1, "burner of cpu {} listed {} times", cpu, l.times);
    KTEST_CHECK(l.name_ok, "burner of cpu {} listed under another name", cpu);
    KTEST_CHECK(l.state == TaskState::kRunning || l.state == TaskState::kRunnable,
                "burner of cpu {} listed as {}", cpu, TaskStateName(l.state));
    KTEST_CHECK(l.cpu == cpu, "burner pinned to cpu {} listed on cpu {}", cpu, l.cpu);
  }
  KTEST_CHECK(listed[n].times == 1 && listed[n].name_ok, "sleeper listed {} times",
              listed[n].times);
  KTEST_CHECK(listed[n].state == TaskState::kSleeping && listed[n].cpu == n - 1,
              "sleeper listed as {} on cpu {}", TaskStateName(listed[n].state), listed[n].cpu);
  KTEST_CHECK(listed[n + 1].times == 1 && listed[n + 1].name_ok &&
                  listed[n + 1].state == TaskState::kRunning && self_cpu_mismatch == 0,
              "the listing task itself: listed {} times as {}", listed[n + 1].times,
              TaskStateName(listed[n + 1].state));

  stop.Store(true, std::memory_order_relaxed);
  wake_sleeper.Store(true, std::memory_order_release);
  sched::Wake(sleeper);
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    sched::Join(tasks[cpu]);
  sched::Join(sleeper);
  uint32_t leftovers = 0;
  registry::ForEach([&](const registry::TaskInfo& info) {
    for (uint32_t i = 0; i <= n; ++i)
      leftovers += listed[i].id == info.id ? 1 : 0;
  });
  KTEST_CHECK(leftovers == 0, "{} joined tasks still listed", leftovers);
}

}  // namespace lichen::ktest
