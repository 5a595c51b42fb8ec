// What the trace rings cost (kernel/trace/trace.h), on the host, whatever LICHEN_TRACE_LEVEL the
// build has (RecordSlow is what every enabled Record() call runs):
//
//   BM_Record        one event appended to a ring (RecordSlow, what every Record() call that
//                    its level keeps runs): the time stamp, a 32-byte store, the count
//   BM_ExportJson    the Trace Event JSON of 4 full rings (kRingSize events each), bytes/s
//
// On the host the time stamp is the simulator's clock (a load; 0 outside a run), so BM_Record
// is the ring write alone; the kernel reads CNTVCT_EL0 instead. The cost in the kernel itself
// (whole workloads with tracing on and off) is measured under QEMU, see docs/perf.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/base/platform.h"
#include "kernel/trace/export.h"
#include "kernel/trace/trace.h"

namespace {

using lichen::trace::Kind;

void BM_Record(benchmark::State& state) {
  benchmark::DoNotOptimize(lichen::platform::Now());  // (also links the simulator's clock)
  lichen::trace::Reset();
  uint64_t i = 0;
  for (auto _ : state) {
    lichen::trace::RecordSlow(0, Kind::kSwitch, i, i + 1, 0);
    ++i;
  }
  benchmark::DoNotOptimize(lichen::trace::Recorded(0));
}
BENCHMARK(BM_Record);

class CountingSink final : public lichen::Sink {
 public:
  void Write(const char*, size_t len) override { bytes += len; }
  uint64_t bytes = 0;
};

void BM_ExportJson(benchmark::State& state) {
  constexpr uint32_t kCpus = 4;
  lichen::trace::Reset();
  // A plausible mix: each CPU switches between a few tasks, wakes and IPIs the next CPU.
  for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
    lichen::trace::RecordSlow(cpu, Kind::kSpawn, 100 + cpu, 0x72656b726f77 /* "worker" */, cpu);
    for (uint32_t i = 0; i < lichen::trace::kRingSize; i += 4) {
      lichen::trace::RecordSlow(cpu, Kind::kSwitch, 100 + cpu, 0, 0);
      lichen::trace::RecordSlow(cpu, Kind::kWakeup, 100 + (cpu + 1) % kCpus, (cpu + 1) % kCpus, 0);
      lichen::trace::RecordSlow(cpu, Kind::kIpiSent, (cpu + 1) % kCpus, 0, 0);
      lichen::trace::RecordSlow(cpu, Kind::kSwitch, 0, 100 + cpu, 4);
    }
  }
  lichen::trace::Spans cpus[kCpus];
  for (uint32_t cpu = 0; cpu < kCpus; ++cpu)
    cpus[cpu] = lichen::trace::Kept(cpu);
  lichen::trace::ExportInfo info;
  info.ncpus = kCpus;
  info.cpus = cpus;
  uint64_t bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    benchmark::DoNotOptimize(lichen::trace::WriteTraceEventJson(sink, info));
    bytes += sink.bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["events"] = kCpus * lichen::trace::kRingSize;
}
BENCHMARK(BM_ExportJson);

}  // namespace

BENCHMARK_MAIN();
