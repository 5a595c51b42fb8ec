#include "platform/aarch64/report.h"

#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/stats.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/format.h"
#include "platform/aarch64/console.h"

namespace lichen::aarch64::report {

namespace {

using console::Print;

// The most trace events the hang report prints per CPU (they live on the reporting stack).
constexpr uint32_t kMaxTraceEvents = 16;

// a * 1000 / b, rounded to the nearest, in per mille; 0 when b is 0.
uint64_t PerMille(uint64_t a, uint64_t b) {
  if (b == 0) return 0;
  // a <= b in every use here, and b is a time in ns (< 2^54 for a run under 200 days).
  return (a * 1000 + b / 2) / b;
}

// now - then in microseconds, 0 when `then` is later (read racily from another CPU).
uint64_t MicrosAgo(uint64_t now, uint64_t then) {
  return now > then ? (now - then) / 1000 : 0;
}

// A ns duration as microseconds with one decimal.
Decimal Micros(uint64_t ns) {
  return Decimal{static_cast<int64_t>((ns + 50) / 100), 1};
}

}  // namespace

Sample TakeSample() {
  Sample s;
  s.time_ns = platform::Now();
  s.ncpus = OnlineCpus().Count();
  if (s.ncpus > BootInfo::kMaxCpus) s.ncpus = BootInfo::kMaxCpus;
  for (uint32_t cpu = 0; cpu < s.ncpus; ++cpu)
    s.cpu[cpu] = SnapshotCounters(cpu);
  return s;
}

void PrintCpuTable(const Sample& before, const Sample& after) {
  const uint64_t elapsed = after.time_ns - before.time_ns;
  Print(
      "  cpu  tasks run  switches  preempt  IPIs sent  IPIs recv  steals  mig in  mig out  "
      "timer IRQs  idle %");
  CpuCounterSnapshot total;
  for (uint32_t cpu = 0; cpu < after.ncpus; ++cpu) {
    const CpuCounterSnapshot& a = before.cpu[cpu];
    const CpuCounterSnapshot& b = after.cpu[cpu];
    CpuCounterSnapshot d;
    d.tasks_run = b.tasks_run - a.tasks_run;
    d.context_switches = b.context_switches - a.context_switches;
    d.preemptions = b.preemptions - a.preemptions;
    d.ipis_sent = b.ipis_sent - a.ipis_sent;
    d.ipis_received = b.ipis_received - a.ipis_received;
    d.steals = b.steals - a.steals;
    d.migrations_in = b.migrations_in - a.migrations_in;
    d.migrations_out = b.migrations_out - a.migrations_out;
    d.timer_interrupts = b.timer_interrupts - a.timer_interrupts;
    d.idle_ns = b.idle_ns - a.idle_ns;
    const uint64_t idle = d.idle_ns < elapsed ? d.idle_ns : elapsed;
    Print("  {:>3}  {:>9}  {:>8}  {:>7}  {:>9}  {:>9}  {:>6}  {:>6}  {:>7}  {:>10}  {:>6}", cpu,
          d.tasks_run, d.context_switches, d.preemptions, d.ipis_sent, d.ipis_received, d.steals,
          d.migrations_in, d.migrations_out, d.timer_interrupts,
          Decimal{static_cast<int64_t>(PerMille(idle, elapsed)), 1});
    total.tasks_run += d.tasks_run;
    total.context_switches += d.context_switches;
    total.preemptions += d.preemptions;
    total.ipis_sent += d.ipis_sent;
    total.ipis_received += d.ipis_received;
    total.steals += d.steals;
    total.migrations_in += d.migrations_in;
    total.migrations_out += d.migrations_out;
    total.timer_interrupts += d.timer_interrupts;
    total.idle_ns += idle;
  }
  Print("  all  {:>9}  {:>8}  {:>7}  {:>9}  {:>9}  {:>6}  {:>6}  {:>7}  {:>10}  {:>6}",
        total.tasks_run, total.context_switches, total.preemptions, total.ipis_sent,
        total.ipis_received, total.steals, total.migrations_in, total.migrations_out,
        total.timer_interrupts,
        Decimal{static_cast<int64_t>(PerMille(total.idle_ns, elapsed * after.ncpus)), 1});
  Print("  ({} ms elapsed; idle % = time in the idle loop's WFI over the elapsed time)",
        elapsed / 1'000'000);
}

void PrintWakeLatency() {
  // 4 KiB of buckets: static, so that a task's stack does not have to hold them. Only the
  // init task prints this table.
  static sched::LatencyHistogram all;
  all.~LatencyHistogram();
  new (&all) sched::LatencyHistogram();
  for (uint32_t cpu = 0; cpu < OnlineCpus().Count(); ++cpu)
    all.MergeFrom(sched::WakeLatency(cpu));
  Print("  wake-to-run latency over {} wakeups: p50 {} us, p90 {} us, p99 {} us, max {} us",
        all.Count(), Micros(all.Percentile(500)), Micros(all.Percentile(900)),
        Micros(all.Percentile(990)), Micros(all.Percentile(1000)));
  Print("  (histogram buckets are within 12.5%; each figure is its bucket's upper bound)");
}

const char* TaskNameById(uint64_t id, char* buf, uint32_t size) {
  BufferSink sink(buf, size);
  if (id == 0) {
    Format(sink, "idle");
    return buf;
  }
  bool found = false;
  registry::ForEach([&](const registry::TaskInfo& info) {
    if (info.id == id && !found) {
      Format(sink, "{}", info.name);
      found = true;
    }
  });
  if (!found) Format(sink, "? (exited)");
  return buf;
}

namespace {

// The per-CPU part of the reports; task names only when `names` (they need the registry).
void PrintPerCpu(uint32_t trace_events, bool names) {
  if (trace_events > kMaxTraceEvents) trace_events = kMaxTraceEvents;
  const uint64_t now = platform::Now();
  const uint32_t ncpus = OnlineCpus().Count();
  // Published atomics first: they need no lock, so they print even if a lock is wedged.
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    const CpuShared& s = Shared(cpu);
    constexpr auto kRelaxed = std::memory_order_relaxed;
    Print(
        "  cpu{}: task {}, nr_running {}, load {}, idle {}, switches {}, timer IRQs {}, IPIs "
        "sent {} recv {}, last decision {} us ago",
        cpu, s.current_task_id.Load(kRelaxed), s.nr_running.Load(kRelaxed), s.load.Load(kRelaxed),
        s.idle.Load(kRelaxed), s.counters.context_switches.Load(kRelaxed),
        s.counters.timer_interrupts.Load(kRelaxed),
        smp::MailboxOf(cpu).counters.ipis_sent.Load(kRelaxed),
        smp::MailboxOf(cpu).counters.ipis_received.Load(kRelaxed),
        MicrosAgo(now, s.last_decision_ns.Load(kRelaxed)));
  }
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    const uint64_t id = Shared(cpu).current_task_id.Load(std::memory_order_relaxed);
    if (names) {
      char name[32];
      Print("  cpu{} runs task {} \"{}\"; its last trace events:", cpu, id,
            TaskNameById(id, name, sizeof(name)));
    } else {
      Print("  cpu{} runs task {}; its last trace events:", cpu, id);
    }
    trace::Event events[kMaxTraceEvents];
    const uint32_t n = trace::Snapshot(cpu, events, trace_events);
    if (n == 0) Print("    (none recorded{})", trace::kEnabled ? "" : ": tracing is compiled out");
    for (uint32_t i = 0; i < n; ++i) {
      const trace::Event& e = events[i];
      Print("    {} us ago: {} a={} b={}", MicrosAgo(now, e.time_ns), trace::KindName(e.kind), e.a,
            e.b);
    }
  }
}

}  // namespace

void PrintCpuStates(uint32_t trace_events, uint32_t max_tasks) {
  PrintPerCpu(trace_events, /*names=*/true);
  Print("  tasks ({} registered):", registry::Count());
  uint32_t printed = 0;
  registry::ForEach([&](const registry::TaskInfo& info) {
    if (printed++ >= max_tasks) return;
    Print("    task {} \"{}\": {}, cpu {}, nice {}, runtime {} us, switches {}", info.id, info.name,
          TaskStateName(info.state), info.cpu, info.nice, info.runtime_ns / 1000, info.switches);
  });
  if (printed > max_tasks) Print("    ... and {} more", printed - max_tasks);
}

void PrintCpuStatesLockFree(uint32_t trace_events) {
  PrintPerCpu(trace_events, /*names=*/false);
}

}  // namespace lichen::aarch64::report
