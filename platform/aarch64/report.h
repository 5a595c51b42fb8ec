// Console reports built from what the core publishes for every CPU: the counters of
// CpuShared, the task registry, the trace rings and the wake-latency histograms. Used by the
// demonstration (tables), the benchmark and the ktests (the hang report).
//
// Everything here reads published atomics or takes the registry's lock, never another CPU's
// run queue; it is safe from any task and, except where noted, from interrupt context.
#pragma once

#include <cstdint>

#include "kernel/sched/cpu.h"
#include "platform/aarch64/boot_info.h"

namespace lichen::aarch64::report {

// Every online CPU's counters, and when they were read.
struct Sample {
  uint64_t time_ns = 0;
  uint32_t ncpus = 0;
  CpuCounterSnapshot cpu[BootInfo::kMaxCpus];
};

// Reads every online CPU's counters now.
Sample TakeSample();

// Prints the per-CPU table of what happened between two samples: tasks run, context
// switches, preemptions, IPIs sent/received, steals, migrations in/out, timer interrupts and
// idle % (idle time over elapsed time, one decimal).
void PrintCpuTable(const Sample& before, const Sample& after);

// Prints wake-to-run latency percentiles (p50, p90, p99, max bucket) summed over all CPUs.
void PrintWakeLatency();

// The name of task `id` as the registry has it, copied into `buf` ("?" when unknown, "idle"
// for id 0). Takes the registry's lock.
const char* TaskNameById(uint64_t id, char* buf, uint32_t size);

// The hang report: for every CPU, the task it runs (id and name), nr_running, load, idle and
// online flags, its last `trace_events` trace events; then every registered task with its
// state, CPU and runtime (at most `max_tasks` of them). Interrupt context is fine: it takes
// only the registry's lock (IRQ-safe) and the console's.
void PrintCpuStates(uint32_t trace_events, uint32_t max_tasks);

// The same per-CPU part without task names or the task list: takes no lock but the
// console's, so a panicking CPU may call it whatever it holds (the fatal-report hook).
void PrintCpuStatesLockFree(uint32_t trace_events);

}  // namespace lichen::aarch64::report
