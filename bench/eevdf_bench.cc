// Benchmarks of the EEVDF run queue against the O(n) scan and the two-heap baselines
// (eevdf_baselines.h), at 10 .. 100 000 queued entities.
//
//   BM_PickRequeue/<impl>/<n>/<mix>     one context switch at slice expiry, as the per-CPU
//       scheduler does it: run the current entity to its deadline (NsUntilDeadline), charge
//       it (UpdateCurrent: the deadline is renewed), PickNext, SetCurrent (the previous one
//       goes back into the queue).
//   BM_DequeueEnqueue/<impl>/<n>/<mix>  a random waiting entity sleeps (dequeue) and wakes
//       (enqueue with PLACE_LAG) again.
// <mix> 0: every entity at nice 0 with the default slice; 1: nice levels -5..5 and slices
// 0.3..3.3 ms mixed. Before timing, entities are placed with random lags (within the dequeue
// clamp) so deadlines and vruntimes are spread as on a busy queue; every implementation gets the
// identical state and makes the identical picks.
//
// Counters: time_per_op (seconds per operation, printed with an SI prefix: 45n = 45 ns).
// Ratios need several benchmarks, so
//   eevdf_bench --table     runs everything and prints the markdown table of docs/perf.md with
//                           the ratios: baseline / tree at the same n, and tree(n) / tree(10).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/eevdf_baselines.h"
#include "kernel/sched/eevdf.h"
#include "lib/random.h"

namespace lichen::bench {
namespace {

using sched::SchedEntity;

// The real run queue, behind the interface the baselines have.
class TreeQueue {
 public:
  using Entity = SchedEntity;
  void Enqueue(SchedEntity& e, bool is_new, uint64_t now_ns) {
    rq_.Enqueue(e, is_new ? sched::kEnqueueNew : sched::kEnqueueWakeup, now_ns);
  }
  void Dequeue(SchedEntity& e, uint64_t now_ns) { rq_.Dequeue(e, sched::kDequeueSleep, now_ns); }
  SchedEntity* PickNext(uint64_t now_ns) { return rq_.PickNext(now_ns); }
  void SetCurrent(SchedEntity* e, uint64_t now_ns) { rq_.SetCurrent(e, now_ns); }
  bool UpdateCurrent(uint64_t now_ns) { return rq_.UpdateCurrent(now_ns); }
  uint64_t NsUntilDeadline(uint64_t now_ns) const { return rq_.NsUntilDeadline(now_ns); }
  SchedEntity* Current() const { return rq_.Current(); }

 private:
  sched::RunQueue rq_{1};
};

class Scan : public ScanQueue {
 public:
  using Entity = BaseEntity;
};
class TwoHeap : public TwoHeapQueue {
 public:
  using Entity = BaseEntity;
};

void SetSlice(SchedEntity& e, uint64_t slice_ns) {
  e.SetSliceNs(slice_ns);
}
void SetSlice(BaseEntity& e, uint64_t slice_ns) {
  e.slice_ns = slice_ns;
}

// n entities queued with spread-out lags, the first pick current. Identical for every Queue.
template <typename Queue>
struct Setup {
  using Entity = typename Queue::Entity;
  Setup(size_t n, bool mix) : entities(new Entity[n]), count(n) {
    Rng rng(12345);
    for (size_t i = 0; i < n; ++i) {
      Entity& e = entities[i];
      e.id = i + 1;
      if (mix) {
        e.SetNice(static_cast<int>(rng.Range(0, 10)) - 5);
        SetSlice(e, rng.Range(300'000, 3'300'000));
      }
      // A wakeup with a random lag within the clamp (+-2 slices at this weight).
      e.new_task = false;
      const int64_t limit = static_cast<int64_t>(CalcDeltaFair(2 * e.slice_ns, e.weight));
      e.vlag = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(2 * limit + 1))) - limit;
      queue.Enqueue(e, false, now);
    }
    queue.SetCurrent(queue.PickNext(now), now);
    // Random waiting entities for the dequeue/enqueue benchmark.
    for (auto& k : victims)
      k = static_cast<uint32_t>(rng.Below(n));
  }
  ~Setup() {
    queue.SetCurrent(nullptr, now);
    for (size_t i = 0; i < count; ++i) {
      if (entities[i].on_rq) queue.Dequeue(entities[i], now);
    }
  }

  Queue queue;
  std::unique_ptr<Entity[]> entities;
  size_t count;
  uint64_t now = 1'000'000'000;
  uint32_t victims[4096];
};

template <typename Queue>
void BM_PickRequeue(benchmark::State& state) {
  Setup<Queue> s(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  Queue& q = s.queue;
  uint64_t now = s.now;
  for (auto _ : state) {
    now += q.NsUntilDeadline(now);
    q.UpdateCurrent(now);
    auto* next = q.PickNext(now);
    q.SetCurrent(next, now);
    benchmark::DoNotOptimize(next);
  }
  s.now = now;
  state.SetItemsProcessed(state.iterations());
  state.counters["time_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <typename Queue>
void BM_DequeueEnqueue(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Setup<Queue> s(n, state.range(1) != 0);
  Queue& q = s.queue;
  uint64_t now = s.now;
  uint32_t k = 0;
  for (auto _ : state) {
    auto* e = &s.entities[s.victims[k++ & 4095]];
    if (e == q.Current()) e = &s.entities[(static_cast<size_t>(e - s.entities.get()) + 1) % n];
    q.Dequeue(*e, now);
    now += 100;
    q.Enqueue(*e, false, now);
  }
  s.now = now;
  state.SetItemsProcessed(state.iterations());
  state.counters["time_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int mix = 0; mix <= 1; ++mix) {
    for (int64_t n : {10, 100, 1'000, 10'000, 100'000})
      b->Args({n, mix});
  }
}

BENCHMARK(BM_PickRequeue<TreeQueue>)->Name("BM_PickRequeue/tree")->Apply(Sizes);
BENCHMARK(BM_PickRequeue<TwoHeap>)->Name("BM_PickRequeue/two_heap")->Apply(Sizes);
BENCHMARK(BM_PickRequeue<Scan>)->Name("BM_PickRequeue/scan")->Apply(Sizes);
BENCHMARK(BM_DequeueEnqueue<TreeQueue>)->Name("BM_DequeueEnqueue/tree")->Apply(Sizes);
BENCHMARK(BM_DequeueEnqueue<TwoHeap>)->Name("BM_DequeueEnqueue/two_heap")->Apply(Sizes);
BENCHMARK(BM_DequeueEnqueue<Scan>)->Name("BM_DequeueEnqueue/scan")->Apply(Sizes);

// Prints the normal console output and remembers each benchmark's CPU time per iteration (ns):
// CPU time rather than wall time, so that other processes on a small shared host (preempting
// this one) do not inflate the numbers.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      // With --benchmark_repetitions, only the median is kept; otherwise the single run.
      if (run.error_occurred) continue;
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      if (run.run_type == Run::RT_Iteration && run.repetitions > 1) continue;
      // "BM_PickRequeue/tree/10/0" -> op "BM_PickRequeue", impl "tree", args "10/0".
      const std::string name = run.run_name.function_name + "/" + run.run_name.args;
      const size_t a = name.find('/');
      const size_t b = name.find('/', a + 1);
      const double ns =
          run.GetAdjustedCPUTime() * (run.time_unit == benchmark::kNanosecond    ? 1.0
                                      : run.time_unit == benchmark::kMicrosecond ? 1e3
                                      : run.time_unit == benchmark::kMillisecond ? 1e6
                                                                                 : 1e9);
      times[name.substr(0, a)][name.substr(b + 1)][name.substr(a + 1, b - a - 1)] = ns;
    }
  }
  // op -> "n/mix" -> impl -> ns per operation.
  std::map<std::string, std::map<std::string, std::map<std::string, double>>> times;
};

void PrintTable(const TableReporter& r) {
  for (int mix = 0; mix <= 1; ++mix) {
    std::printf("\n%s\n\n", mix == 0 ? "All entities nice 0, default slice:"
                                     : "Mixed nice (-5..5) and slices (0.3..3.3 ms):");
    std::printf(
        "| operation | n | tree ns/op | two-heap ns/op | O(n) scan ns/op | scan / tree | "
        "two-heap / tree | tree(n) / tree(10) |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& [op, by_size] : r.times) {
      const auto base = by_size.find("10/" + std::to_string(mix));
      const double tree10 = base != by_size.end() ? base->second.at("tree") : 0;
      for (int64_t n : {10, 100, 1'000, 10'000, 100'000}) {
        const auto it = by_size.find(std::to_string(n) + "/" + std::to_string(mix));
        if (it == by_size.end()) continue;
        const auto& t = it->second;
        const auto get = [&t](const char* impl) {
          const auto f = t.find(impl);
          return f == t.end() ? 0.0 : f->second;
        };
        const double tree = get("tree");
        std::printf("| %s | %lld | %.1f | %.1f | %.1f | %.1fx | %.2fx | %.2fx |\n", op.c_str() + 3,
                    static_cast<long long>(n), tree, get("two_heap"), get("scan"),
                    get("scan") / tree, get("two_heap") / tree, tree10 > 0 ? tree / tree10 : 0.0);
      }
    }
  }
}

}  // namespace
}  // namespace lichen::bench

int main(int argc, char** argv) {
  bool table = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--table") == 0) {
      table = true;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  lichen::bench::TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (table) lichen::bench::PrintTable(reporter);
  benchmark::Shutdown();
  return 0;
}
