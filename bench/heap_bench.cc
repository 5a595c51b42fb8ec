// The kernel heap on real host threads: the per-CPU caches (CachedHeap, the kernel's heap)
// against the heap behind them alone (Heap: one IRQ-saving ticket lock taken by every Alloc
// and Free, the kernel's heap before the caches), measured in the same run.
//
//   BM_Local/<impl>/<threads>    each thread is one CPU of the mm test platform
//       (tests/mm/platform_stub.cc) and repeats heap_alloc_in_irq's pattern: allocate 8 objects
//       of mixed sizes (24, 200, 1500 and 6000 bytes), touch them, free them. Measured: alloc/free
//       pairs per second of wall time, all threads together.
//   BM_Remote/<impl>/<threads>   the same pairs, but every object is freed by the next thread
//       (a cross-CPU free), handed over through a per-thread single-producer ring.
//
//   heap_bench --table   also prints the markdown table of docs/perf.md: the rates and the
//                        ratio cached / global-lock for 1, 2, 4 and 8 threads.
// This machine has 2 cores, so 4 and 8 threads time-share them: the vCPU-overcommit case, in
// which a fair lock whose next ticket holder is descheduled stalls every other thread. The
// test platform's CpuRelax yields the host thread, which softens that convoy compared with a
// vCPU that spins through its whole host time slice.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernel/mm/heap.h"
#include "kernel/mm/heap_cache.h"
#include "kernel/mm/page_alloc.h"
#include "tests/mm/platform_stub.h"

namespace lichen::bench {
namespace {

constexpr size_t kRegionBytes = size_t{64} << 20;
constexpr uint32_t kBatch = 8;                // objects a thread holds at once
constexpr uint64_t kRoundsPerThread = 20000;  // each round: kBatch allocs and frees
constexpr size_t kSizes[] = {24, 200, 1500, 6000};

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// A fresh page allocator over a host buffer and a heap of type HeapT on it, per run.
template <typename HeapT>
class World {
 public:
  World() {
    if (!pages_.AddRegion(buffer_.base(), kRegionBytes).ok()) std::abort();
    heap_ = std::make_unique<HeapT>(pages_);
  }
  ~World() {
    // The caches hold objects at the end; the heap is abandoned with the buffer rather than
    // drained CPU by CPU (its destructor's checks are for tests).
    (void)heap_.release();
  }
  HeapT& heap() { return *heap_; }

 private:
  // Declared first, so freed last: the page allocator's destructor still walks its free lists.
  struct Buffer {
    void* memory = std::aligned_alloc(4 << 20, kRegionBytes);
    ~Buffer() { std::free(memory); }
    uintptr_t base() const { return reinterpret_cast<uintptr_t>(memory); }
  } buffer_;
  mm::PageAllocator pages_;
  std::unique_ptr<HeapT> heap_;
};

void Touch(void* p, size_t bytes) {
  auto* b = static_cast<volatile uint8_t*>(p);
  b[0] = 1;
  b[bytes - 1] = 2;
}

// Runs body(t) on `threads` threads, thread t as CPU t, all released at once; returns the
// alloc/free pairs per second (each thread does kRoundsPerThread x kBatch of them).
template <typename Body>
double PairsPerSecond(uint32_t threads, Body body) {
  std::atomic<uint32_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      mm_test::SetThisCpu(t);
      ready.fetch_add(1);
      while (!go.load())
        std::this_thread::yield();
      body(t);
    });
  }
  while (ready.load() != threads)
    std::this_thread::yield();
  const uint64_t start = NowNs();
  go.store(true);
  for (std::thread& w : workers)
    w.join();
  const double seconds = static_cast<double>(NowNs() - start) / 1e9;
  return static_cast<double>(threads * kRoundsPerThread * kBatch) / seconds;
}

// Every thread allocates kBatch objects, touches them and frees them, kRoundsPerThread times.
template <typename HeapT>
double LocalPairsPerSecond(uint32_t threads) {
  World<HeapT> world;
  return PairsPerSecond(threads, [&](uint32_t) {
    void* live[kBatch];
    for (uint64_t round = 0; round < kRoundsPerThread; ++round) {
      for (uint32_t i = 0; i < kBatch; ++i) {
        const size_t bytes = kSizes[(round + i) % 4];
        live[i] = world.heap().Alloc(bytes).value();
        Touch(live[i], bytes);
      }
      for (uint32_t i = 0; i < kBatch; ++i)
        world.heap().Free(live[i]);
    }
  });
}

// A single-producer single-consumer ring of pointers: thread t puts, thread t+1 takes.
struct Ring {
  static constexpr uint32_t kSlots = 1024;
  std::atomic<uint64_t> head{0};  // next slot to take
  std::atomic<uint64_t> tail{0};  // next slot to fill
  void* slots[kSlots];
  bool Put(void* p) {
    const uint64_t t = tail.load(std::memory_order_relaxed);
    if (t - head.load(std::memory_order_acquire) == kSlots) return false;
    slots[t % kSlots] = p;
    tail.store(t + 1, std::memory_order_release);
    return true;
  }
  void* Take() {
    const uint64_t h = head.load(std::memory_order_relaxed);
    if (h == tail.load(std::memory_order_acquire)) return nullptr;
    void* p = slots[h % kSlots];
    head.store(h + 1, std::memory_order_release);
    return p;
  }
};

// Thread t allocates and hands every object to thread t+1 (mod threads), which frees it.
template <typename HeapT>
double RemotePairsPerSecond(uint32_t threads) {
  World<HeapT> world;
  std::vector<std::unique_ptr<Ring>> rings;  // rings[t]: from thread t to thread t+1
  for (uint32_t t = 0; t < threads; ++t)
    rings.push_back(std::make_unique<Ring>());
  std::atomic<uint32_t> producing{threads};
  return PairsPerSecond(threads, [&](uint32_t t) {
    Ring& out = *rings[t];
    Ring& in = *rings[(t + threads - 1) % threads];
    auto drain = [&] {
      uint32_t n = 0;
      while (void* p = in.Take()) {
        world.heap().Free(p);
        ++n;
      }
      return n;
    };
    for (uint64_t round = 0; round < kRoundsPerThread; ++round) {
      for (uint32_t i = 0; i < kBatch; ++i) {
        const size_t bytes = kSizes[(round + i) % 4];
        void* p = world.heap().Alloc(bytes).value();
        Touch(p, bytes);
        while (!out.Put(p)) {
          if (drain() == 0) std::this_thread::yield();
        }
      }
      drain();
    }
    producing.fetch_sub(1);
    while (producing.load() != 0 || in.head.load() != in.tail.load()) {
      if (drain() == 0) std::this_thread::yield();
    }
  });
}

template <typename HeapT, bool kRemote>
void BM_Pairs(benchmark::State& state) {
  const auto threads = static_cast<uint32_t>(state.range(0));
  std::vector<double> rates;
  for (auto _ : state) {
    const double rate =
        kRemote ? RemotePairsPerSecond<HeapT>(threads) : LocalPairsPerSecond<HeapT>(threads);
    state.SetIterationTime(static_cast<double>(threads * kRoundsPerThread * kBatch) / rate);
    rates.push_back(rate);
  }
  // The median run: a convoy makes single runs of the global-lock heap vary by 10x and more,
  // so neither the best nor the mean says what to expect.
  std::sort(rates.begin(), rates.end());
  state.counters["pairs_per_s"] = rates[rates.size() / 2];
}

// Collects counters for --table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      rates_[run.benchmark_name()] = run.counters.at("pairs_per_s").value;
    }
  }
  double Rate(const char* bench, const char* impl, int threads) const {
    const std::string name = std::string(bench) + "/" + impl + "/" + std::to_string(threads) +
                             "/iterations:3/manual_time";
    auto it = rates_.find(name);
    return it == rates_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

// BM_Local/cached, BM_Local/global, BM_Remote/cached, BM_Remote/global, each on 1..8 threads.
void RegisterAll() {
  struct Entry {
    const char* name;
    void (*function)(benchmark::State&);
  };
  const Entry entries[] = {
      {"BM_Local/cached", &BM_Pairs<mm::CachedHeap, false>},
      {"BM_Local/global", &BM_Pairs<mm::Heap, false>},
      {"BM_Remote/cached", &BM_Pairs<mm::CachedHeap, true>},
      {"BM_Remote/global", &BM_Pairs<mm::Heap, true>},
  };
  for (const Entry& entry : entries) {
    benchmark::RegisterBenchmark(entry.name, entry.function)
        ->Arg(1)
        ->Arg(2)
        ->Arg(4)
        ->Arg(8)
        ->UseManualTime()
        ->Iterations(3)
        ->Unit(benchmark::kMillisecond);
  }
}

void PrintTable(const TableReporter& reporter) {
  std::printf("\nAlloc/free pairs per second, all threads together (median of 3 runs):\n\n");
  std::printf("| threads | local: cached | local: global lock | local ratio | ");
  std::printf("cross-CPU free: cached | cross-CPU free: global lock | cross-CPU ratio |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int threads : {1, 2, 4, 8}) {
    const double lc = reporter.Rate("BM_Local", "cached", threads);
    const double lg = reporter.Rate("BM_Local", "global", threads);
    const double rc = reporter.Rate("BM_Remote", "cached", threads);
    const double rg = reporter.Rate("BM_Remote", "global", threads);
    std::printf("| %d | %.2fM | %.2fM | %.2fx | %.2fM | %.2fM | %.2fx |\n", threads, lc / 1e6,
                lg / 1e6, lg > 0 ? lc / lg : 0.0, rc / 1e6, rg / 1e6, rg > 0 ? rc / rg : 0.0);
  }
}

}  // namespace
}  // namespace lichen::bench

int main(int argc, char** argv) {
  bool table = false;
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--table") == 0) {
      table = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  lichen::bench::RegisterAll();
  lichen::bench::TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (table) lichen::bench::PrintTable(reporter);
  benchmark::Shutdown();
  return 0;
}
