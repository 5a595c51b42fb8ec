// The simulator's machine, shared by its parts (internal to platform/sim):
//   machine.cc        the vCPU scheduler: the main loop, PCT and the random walk, time,
//                     interrupts, stalls, store buffers, panics and logs, the trace file;
//   invariants.cc     what must always hold, checked whenever no CPU can run;
//   platform_impl.cc  kernel/base/platform.h on top of the machine;
//   workload_glue.cc  running named workloads, and what workload bodies call (Compute, Fail).
// The trace export lives in kernel/trace/export, the replay lines in replay.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernel/sched/cpu.h"
#include "kernel/time/timer.h"
#include "lib/atomic.h"
#include "lib/random.h"
#include "lib/units.h"
#include "platform/sim/fiber.h"
#include "platform/sim/fingerprint.h"
#include "platform/sim/sim.h"

namespace lichen::sim {

// Internal to the simulator (its .cc files).
inline namespace detail {

constexpr uint32_t kNoCpu = ~0u;
// Virtual time starts here, not at 0 (0 means "never" in some kernel fields).
constexpr uint64_t kStartTimeNs = kMs;
constexpr size_t kBootStackBytes = 256 * 1024;
// A CPU counts as spinning while it called CpuRelax() within its last few points.
constexpr uint32_t kSpinWindow = 3;

enum class CpuState : uint8_t {
  kRunnable,   // can execute its next step at the current instant
  kComputing,  // busy until compute_until (interruptible when IRQs are unmasked)
  kHalted,     // in WFI until an interrupt is pending
};

// A store waiting in a CPU's store buffer (Options::weak_memory).
struct BufferedStore {
  void* object;
  uint64_t bits;
  MemoryModelHooks::Write write;
};

struct VCpu {
  uint32_t id = 0;
  CpuState state = CpuState::kRunnable;
  platform::Context boot_context;
  // The context executing on this CPU (its boot context, then whatever task it switched to).
  platform::Context* running = nullptr;
  bool irqs_masked = true;
  bool timer_armed = false;
  uint64_t timer_deadline = 0;
  bool ipi_pending = false;
  uint64_t compute_until = 0;
  uint32_t points_since_relax = kSpinWindow;
  uint64_t relax_epoch = 0;
  uint32_t priority = 0;
  uint64_t halted_since = 0;
  // Inside the kernel's timer handler, which re-arms the timer before it returns.
  bool in_timer_handler = false;
  // Options::weak_memory: stores not yet visible to the other CPUs, oldest first.
  std::vector<BufferedStore> store_buffer;
};

struct InFlightIpi {
  uint64_t arrival_ns;
  uint32_t target;
};

struct Sim {
  Options options;
  Strategy strategy = Strategy::kPct;
  Rng rng{1};
  Rng workload_rng{1};
  std::vector<VCpu> cpus;
  uint32_t current = kNoCpu;
  platform::Context main_context;
  uint64_t now = kStartTimeNs;
  uint64_t steps = 0;
  uint64_t epoch = 0;
  std::vector<InFlightIpi> ipis;
  // Machine stalls so far, in time order: (when the stall began, how long it lasted).
  std::vector<std::pair<uint64_t, uint64_t>> stalls;
  // waiting_since[c * ncpus + h]: since when CPU c has had, at every quiescent check, a
  // waiting task that may run on CPU h (0: not now).
  std::vector<uint64_t> waiting_since;
  std::vector<uint64_t> change_points;  // PCT, ascending
  size_t next_change = 0;
  bool failed = false;
  bool root_done = false;
  std::string failure;
  Failure failure_kind = Failure::kNone;
  Fingerprint fingerprint;
  RootFn root = nullptr;
  void* root_arg = nullptr;
};

// The running simulation (nullptr between runs).
extern Sim* g_sim;

using Event = Fingerprint::Event;

inline void Mix(Event event, uint64_t index = 0) {
  g_sim->fingerprint.Add(event, index);
}

inline void Mix(uint64_t value) {
  g_sim->fingerprint.Mix(value);
}

inline VCpu& Cur() {
  return g_sim->cpus[g_sim->current];
}

// ---- machine.cc ------------------------------------------------------------------------------

// "CPU n (task t) at t=... ns", for failure messages.
void Describe(uint32_t cpu, char* buf, size_t size);
std::string Describe(uint32_t cpu);
// Stops the run with `kind` and `message`; on a CPU fiber it never returns.
[[noreturn]] void FailHere(Failure kind, const char* message);
// Gives the host thread back to the main loop until the scheduler resumes this CPU.
void Pause();
// Store buffers (Options::weak_memory): write the oldest `count` stores, or all.
void FlushStores(VCpu& cpu, size_t count);
void DrainStores(VCpu& cpu);
// Takes pending interrupts on the current CPU while IRQs are unmasked.
void DeliverInterrupts();
// The interleaving point (lib/atomic.h's hook).
void InterleaveHook();
// Spends `ns` of virtual CPU time on the current CPU.
void Occupy(uint64_t ns);
// How long the machine has stalled since `since_ns` (stalls widen the time bounds).
uint64_t StalledSince(uint64_t since_ns);
// Every registered task, one per line, for failure messages.
std::string TaskList();

// ---- invariants.cc ---------------------------------------------------------------------------

// Checks the invariants that must hold whenever no CPU can run at the current instant; on a
// violation sets g_sim->failed, failure and failure_kind.
void CheckQuiescent();

}  // namespace detail

}  // namespace lichen::sim
