// Scheduler API on the real machine: errors as values, SetNice on a running task, SetAffinity
// moving a running task.
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/weights.h"
#include "ktests/ktest.h"
#include "lib/log.h"
#include "lib/units.h"
#include "workloads/workloads.h"

namespace lichen::ktest {

namespace {

void NothingBody(void*) {}

// A burner whose progress the test reads while it runs.
struct ProgressBurner {
  Atomic<bool>* stop = nullptr;
  Atomic<uint64_t> chunks{0};      // written by the burner only
  Atomic<uint64_t> runtime_ns{0};  // the scheduler's charge for it, as of its last chunk
  Atomic<uint64_t> visited{0};     // bit per CPU it burned on
  Atomic<uint32_t> last_cpu{~0u};
};

constexpr uint64_t kChunkNs = 100 * kUs;

void ProgressBurnerBody(void* p) {
  auto* burner = static_cast<ProgressBurner*>(p);
  while (!burner->stop->Load(std::memory_order_relaxed)) {
    workload::Burn(kChunkNs);
    const uint32_t cpu = ThisCpu();
    burner->chunks.AddRelaxedOwner(1);
    burner->runtime_ns.Store(sched::CurrentRuntimeNs(), std::memory_order_relaxed);
    burner->visited.FetchOr(uint64_t{1} << cpu, std::memory_order_relaxed);
    burner->last_cpu.Store(cpu, std::memory_order_relaxed);
  }
}

// Waits until b's share of the CPU time the scheduler charged a and b since the call, in per
// mille, lies within `tolerance` of `want`, over at least kMinChargedNs of charged time; fails
// the test if it does not get there within kMaxChargedNs of it. Returns the share it accepted.
//
// CPU *time*, not work done: EEVDF divides time by weight, and that is what SetNice changes.
// Under TCG a vCPU that the host deschedules while a burner runs charges that burner the time
// without it doing any work; EEVDF then rightly pays the other one back, so the work share
// drifts from the weights by however much the host stole (a busy-host soak saw b at 432 per
// mille of the work for 246 of the weight) while the time share stays on the weights: a
// stall charged to one burner is paid back to the other within a few slices, and the
// cumulative share returns to the weights, which the loop waits for. Both window limits are
// charged time, so a slow host makes the test slower, never failed. (No widening by the CPU's
// worst lateness, as workload_burners has: that is a maximum since boot, and one early
// stall of 100 ms would let any share pass a 150 ms window.)
constexpr uint64_t kMinChargedNs = 150 * kMs;
constexpr uint64_t kMaxChargedNs = 4000 * kMs;

uint64_t ShareOfBSettles(ProgressBurner& a, ProgressBurner& b, uint32_t cpu, uint64_t want,
                         uint64_t tolerance, const char* what) {
  const uint64_t a0 = a.runtime_ns.Load(std::memory_order_relaxed);
  const uint64_t b0 = b.runtime_ns.Load(std::memory_order_relaxed);
  const uint64_t wa0 = a.chunks.Load(std::memory_order_relaxed);
  const uint64_t wb0 = b.chunks.Load(std::memory_order_relaxed);
  for (;;) {
    sched::SleepFor(50 * kMs);
    const uint64_t da = a.runtime_ns.Load(std::memory_order_relaxed) - a0;
    const uint64_t db = b.runtime_ns.Load(std::memory_order_relaxed) - b0;
    const uint64_t total = da + db;
    const uint64_t share = total == 0 ? 0 : db * 1000 / total;
    const uint64_t diff = share > want ? share - want : want - share;
    // The work share, for the log only: what the host's scheduling did to the burners.
    const uint64_t dwa = a.chunks.Load(std::memory_order_relaxed) - wa0;
    const uint64_t dwb = b.chunks.Load(std::memory_order_relaxed) - wb0;
    const uint64_t work_share = dwa + dwb == 0 ? 0 : dwb * 1000 / (dwa + dwb);
    if (total >= kMinChargedNs && diff <= tolerance) {
      LICHEN_LOG_DEBUG("{}: b's time share {} per mille (want {} +- {}), work share {}, {} ms",
                       what, share, want, tolerance, work_share, total / kMs);
      return share;
    }
    KTEST_CHECK(total < kMaxChargedNs,
                "{}: b's share of the CPU time is {} per mille after {} ms of it, want {} +- {} "
                "(work share {}, worst lateness on cpu {}: {} us)",
                what, share, total / kMs, want, tolerance, work_share, cpu,
                sched::WorstLatenessNs(cpu) / kUs);
  }
}

int32_t PublishedNice(uint64_t id) {
  int32_t nice = 100;
  registry::ForEach([&](const registry::TaskInfo& info) {
    if (info.id == id) nice = info.nice;
  });
  return nice;
}

}  // namespace

// Spawn reports bad options as errors instead of failing later.
KTEST(spawn_rejects_bad_options) {
  sched::SpawnOptions no_entry;
  const Result<Task*> a = sched::Spawn(no_entry);
  KTEST_CHECK(!a.ok() && a.error() == Error::kInvalidArgument, "spawn without an entry: {}",
              a.ok() ? "succeeded" : ErrorName(a.error()));
  sched::SpawnOptions offline;
  offline.entry = &NothingBody;
  offline.affinity = CpuMask::FirstN(kMaxCpus).Without(OnlineCpus());
  const Result<Task*> b = sched::Spawn(offline);
  KTEST_CHECK(!b.ok() && b.error() == Error::kInvalidArgument,
              "spawn allowed only on offline CPUs: {}",
              b.ok() ? "succeeded" : ErrorName(b.error()));
}

// Two nice-0 burners share a CPU's time evenly; renicing one to +5 while it runs moves its
// share of the CPU time to its weight share, 335 / (1024 + 335) = 24.7% (each within 10
// points; see ShareOfBSettles).
KTEST(setnice_changes_running_share) {
  const uint32_t cpu = Cpus() - 1;
  Atomic<bool> stop{false};
  ProgressBurner a;
  ProgressBurner b;
  a.stop = b.stop = &stop;
  Task* ta = Spawn("nice-a", &ProgressBurnerBody, &a, CpuMask::Single(cpu));
  Task* tb = Spawn("nice-b", &ProgressBurnerBody, &b, CpuMask::Single(cpu));
  sched::SleepFor(20 * kMs);
  ShareOfBSettles(a, b, cpu, 500, 100, "two nice-0 burners");
  sched::SetNice(tb, 5);
  const int32_t nice = PublishedNice(tb->id);
  KTEST_CHECK(nice == 5, "the registry shows nice {} after SetNice(5)", nice);
  const uint64_t want = uint64_t{sched::WeightForNice(5)} * 1000 /
                        (sched::WeightForNice(0) + sched::WeightForNice(5));
  ShareOfBSettles(a, b, cpu, want, 100, "after SetNice(+5)");
  stop.Store(true, std::memory_order_relaxed);
  sched::Join(ta);
  sched::Join(tb);
}

// SetAffinity moves a running task to the one CPU it now allows, and it stays there. Bad
// masks are refused. On one CPU only the refusals and the no-op can be checked.
KTEST(setaffinity_moves_running_task) {
  const uint32_t n = Cpus();
  Atomic<bool> stop{false};
  ProgressBurner burner;
  burner.stop = &stop;
  Task* task = Spawn("mover", &ProgressBurnerBody, &burner, CpuMask::Single(0));
  WaitFor([&] { return burner.last_cpu.Load(std::memory_order_relaxed) == 0; }, WaitLimitNs(),
          "the burner to run on cpu 0");
  const Result<void> empty = sched::SetAffinity(task, CpuMask());
  KTEST_CHECK(!empty.ok() && empty.error() == Error::kInvalidArgument, "empty mask accepted");
  const Result<void> offline =
      sched::SetAffinity(task, CpuMask::FirstN(kMaxCpus).Without(OnlineCpus()));
  KTEST_CHECK(!offline.ok() && offline.error() == Error::kInvalidArgument,
              "a mask of offline CPUs accepted");
  const uint32_t target = n - 1;
  const Result<void> moved = sched::SetAffinity(task, CpuMask::Single(target));
  KTEST_CHECK(moved.ok(), "SetAffinity to cpu {} refused", target);
  WaitFor([&] { return burner.last_cpu.Load(std::memory_order_relaxed) == target; }, WaitLimitNs(),
          "the burner to move to the last CPU");
  // It stays there: the next chunks all end on the target. Counted in chunks, not in a time
  // window (a busy host once ran none of them in 30 ms: "ran on CPUs 0b0").
  burner.visited.Store(0, std::memory_order_relaxed);
  const uint64_t chunks = burner.chunks.Load(std::memory_order_relaxed);
  WaitFor([&] { return burner.chunks.Load(std::memory_order_relaxed) >= chunks + 50; },
          WaitLimitNs(), "50 chunks of the burner after the move");
  const uint64_t visited = burner.visited.Load(std::memory_order_relaxed);
  stop.Store(true, std::memory_order_relaxed);
  sched::Join(task);
  KTEST_CHECK(visited == (uint64_t{1} << target), "after the move it ran on CPUs {:#b}", visited);
}

}  // namespace lichen::ktest
