// Workloads: ordinary task bodies written against the kernel API.
//
// The same code runs in the simulator (tests/sim, tools/sim-run) and inside the aarch64
// kernel (ktests/). Each workload checks its own results with LICHEN_ASSERT -- a wrong count,
// a sleeper woken early, a broken mutual exclusion, a share far from its weight -- so a
// failure shows up as a panic in either world. The only thing a workload needs from the
// platform is Burn(): spending CPU time.
#pragma once

#include <cstdint>
#include <span>

#include "kernel/sched/task.h"
#include "lib/cpumask.h"

namespace lichen::workload {

// ---- Provided by each platform --------------------------------------------------------------

// Spends `ns` of CPU time in the calling task (the simulator advances virtual time; the
// kernel spins on a calibrated loop). Preemption may split it.
void Burn(uint64_t ns);

// ---- Helpers --------------------------------------------------------------------------------

// Spawns a joinable task or panics (workloads and demonstrations are sized far below memory
// limits, so a failed spawn is a bug).
Task* MustSpawn(const char* name, Task::Entry entry, void* arg, int nice = 0,
                CpuMask affinity = CpuMask::FirstN(kMaxCpus), uint64_t slice_ns = 0);

// ---- Workloads ------------------------------------------------------------------------------

struct Params {
  // Multiplies the number of tasks and iterations (1 = a short run).
  uint32_t scale = 1;
  // Seeds the workload's own random choices (sleep lengths, burn lengths, fan-out).
  uint64_t seed = 1;
  // NiceBurners: check each task's CPU share against its weight (off when other workloads
  // share the CPU, as in Mixed).
  bool check_shares = true;
};

// Parents on every CPU spawn children that spawn grandchildren; every parent joins its own.
void SpawnExitStorm(const Params& params);
// Pairs of tasks on different CPUs hand a token back and forth through semaphores.
void PingPong(const Params& params);
// Tasks sleep for random times; none may wake before its deadline.
void Sleepers(const Params& params);
// CPU-bound tasks with nice -5..10 on one CPU; each one's share must match its weight.
void NiceBurners(const Params& params);
// Tasks increment a counter under one Mutex, checking mutual exclusion.
void MutexContention(const Params& params);
// Tasks that do little but yield.
void YieldStorm(const Params& params);
// Independent CPU-bound tasks: the speedup benchmark (makespan on N CPUs vs 1).
void ParallelBurn(const Params& params);
// All of the above at once.
void Mixed(const Params& params);
// Everything but the fixed-duration burners, at once: a fixed amount of work whose makespan
// measures how well the CPUs are used (placement and stealing benchmarks).
void MixedWork(const Params& params);

struct Workload {
  const char* name;
  void (*run)(const Params& params);
  // Pins tasks to CPUs (affinity): a CPU may legitimately idle while pinned work waits.
  bool pins_tasks;
  const char* description;
};

// Every workload, in a fixed order.
std::span<const Workload> All();
// The workload called `name`, or nullptr.
const Workload* Find(const char* name);

}  // namespace lichen::workload
