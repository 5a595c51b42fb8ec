// The messenger's mailbox on real host threads: Lichen's lock-free intrusive MPSC list with
// one "IPI" per burst, against the seed kernel's design (one spinlock around the queue), in
// the same run.
//
//   BM_Mailbox/<impl>/<senders>   `senders` threads each push kMessagesPerSender messages into
//       one mailbox as fast as they can; one consumer thread drains it whenever its "IPI" flag
//       is set (what the kernel's IPI handler does). Measured: throughput (messages per second
//       of wall time), per-message latency from push to drain (p50, p99), and IPIs per message
//       (a sender "sends an IPI" when it finds the flag clear, exactly as smp::Kick does).
//   BM_Latency/<impl>/<senders>   paced senders (one message every 20 us each): push-to-drain
//       latency without a backlog.
//   BM_Burst/<impl>/<burst>       one sender pushes bursts of `burst` messages separated by a
//       pause: IPIs per message under bursts (coalescing).
//
//   messenger_bench --table     prints the markdown table of docs/perf.md (ratios against the
//                               spinlock mailbox measured in the same run).
// This machine has 2 cores: with more sender threads than cores the threads time-share, which
// is the contended case a spinlock handles worst (a preempted lock holder stalls everyone).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "lib/mpsc.h"

namespace lichen::bench {
namespace {

constexpr uint64_t kMessagesPerSender = 50'000;

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

struct Message {
  MpscNode node;
  Message* next_locked = nullptr;  // link for the spinlock mailbox
  uint64_t sent_ns = 0;
};

// Lichen's mailbox: lock-free push, whole-list take, a pending flag for IPI coalescing.
class LockFreeMailbox {
 public:
  // Returns true when this push "sends the IPI" (first since the consumer last drained).
  bool Post(Message& m) {
    list_.Push(m);
    return !pending_.exchange(true, std::memory_order_seq_cst);
  }
  bool Pending() const { return pending_.load(std::memory_order_acquire); }
  template <typename F>
  void Drain(F&& f) {
    pending_.store(false, std::memory_order_seq_cst);
    auto batch = list_.TakeAll();
    while (Message* m = batch.PopFront())
      f(*m);
  }

 private:
  MpscList<Message, &Message::node> list_;
  std::atomic<bool> pending_{false};
};

// The seed kernel's mailbox: a queue behind one test-and-set spinlock, one IPI per message
// (the seed sent an IPI for every message_cpu call).
class SpinlockMailbox {
 public:
  bool Post(Message& m) {
    Lock();
    m.next_locked = nullptr;
    if (tail_ == nullptr) {
      head_ = tail_ = &m;
    } else {
      tail_->next_locked = &m;
      tail_ = &m;
    }
    Unlock();
    pending_.store(true, std::memory_order_release);
    return true;
  }
  bool Pending() const { return pending_.load(std::memory_order_acquire); }
  template <typename F>
  void Drain(F&& f) {
    pending_.store(false, std::memory_order_seq_cst);
    // The seed's receiver popped one message per lock acquisition.
    for (;;) {
      Lock();
      Message* m = head_;
      if (m != nullptr) {
        head_ = m->next_locked;
        if (head_ == nullptr) tail_ = nullptr;
      }
      Unlock();
      if (m == nullptr) return;
      f(*m);
    }
  }

 private:
  void Lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed))
        std::this_thread::yield();
    }
  }
  void Unlock() { locked_.store(false, std::memory_order_release); }
  std::atomic<bool> locked_{false};
  Message* head_ = nullptr;
  Message* tail_ = nullptr;
  std::atomic<bool> pending_{false};
};

struct Outcome {
  double seconds = 0;
  uint64_t messages = 0;
  uint64_t ipis = 0;
  uint64_t p50_ns = 0;
  uint64_t p99_ns = 0;
};

// Runs `senders` threads pushing `per_sender` messages each, in bursts of `burst` separated
// by `pause_us`, and one consumer draining on its flag.
template <typename Mailbox>
Outcome Transfer(uint32_t senders, uint64_t per_sender, uint64_t burst, uint64_t pause_us) {
  Mailbox mailbox;
  std::vector<std::vector<Message>> messages(senders, std::vector<Message>(per_sender));
  std::vector<uint64_t> latencies;
  latencies.reserve(senders * per_sender);
  std::atomic<uint64_t> ipis{0};
  std::atomic<bool> go{false};
  const uint64_t total = senders * per_sender;
  std::thread consumer([&] {
    uint64_t received = 0;
    while (received < total) {
      if (!mailbox.Pending()) {
        std::this_thread::yield();
        continue;
      }
      mailbox.Drain([&](Message& m) {
        latencies.push_back(NowNs() - m.sent_ns);
        ++received;
      });
    }
  });
  std::vector<std::thread> threads;
  for (uint32_t s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
      uint64_t local_ipis = 0;
      for (uint64_t i = 0; i < per_sender; ++i) {
        Message& m = messages[s][i];
        m.sent_ns = NowNs();
        local_ipis += mailbox.Post(m) ? 1 : 0;
        if (burst != 0 && (i + 1) % burst == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
        }
      }
      ipis.fetch_add(local_ipis, std::memory_order_relaxed);
    });
  }
  const uint64_t start = NowNs();
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads)
    t.join();
  consumer.join();
  const uint64_t end = NowNs();
  std::sort(latencies.begin(), latencies.end());
  Outcome out;
  out.seconds = static_cast<double>(end - start) / 1e9;
  out.messages = total;
  out.ipis = ipis.load();
  out.p50_ns = latencies[latencies.size() / 2];
  out.p99_ns = latencies[latencies.size() * 99 / 100];
  return out;
}

template <typename Mailbox>
void BM_Mailbox(benchmark::State& state) {
  const auto senders = static_cast<uint32_t>(state.range(0));
  Outcome last;
  double msgs_per_sec = 0;
  for (auto _ : state) {
    last = Transfer<Mailbox>(senders, kMessagesPerSender, 0, 0);
    state.SetIterationTime(last.seconds);
    msgs_per_sec = static_cast<double>(last.messages) / last.seconds;
  }
  state.counters["msgs_per_s"] = msgs_per_sec;
  state.counters["p50_ns"] = static_cast<double>(last.p50_ns);
  state.counters["p99_ns"] = static_cast<double>(last.p99_ns);
  state.counters["ipis_per_msg"] =
      static_cast<double>(last.ipis) / static_cast<double>(last.messages);
}

// Latency without a backlog: each of `senders` threads posts one message every 20 us.
template <typename Mailbox>
void BM_Latency(benchmark::State& state) {
  const auto senders = static_cast<uint32_t>(state.range(0));
  Outcome last;
  for (auto _ : state) {
    last = Transfer<Mailbox>(senders, 2000, 1, 20);
    state.SetIterationTime(last.seconds);
  }
  state.counters["p50_ns"] = static_cast<double>(last.p50_ns);
  state.counters["p99_ns"] = static_cast<double>(last.p99_ns);
}

template <typename Mailbox>
void BM_Burst(benchmark::State& state) {
  const auto burst = static_cast<uint64_t>(state.range(0));
  Outcome last;
  for (auto _ : state) {
    last = Transfer<Mailbox>(1, burst * 200, burst, 50);
    state.SetIterationTime(last.seconds);
  }
  state.counters["ipis_per_msg"] =
      static_cast<double>(last.ipis) / static_cast<double>(last.messages);
}

BENCHMARK(BM_Mailbox<LockFreeMailbox>)
    ->Name("BM_Mailbox/lockfree")
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Arg(16)
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mailbox<SpinlockMailbox>)
    ->Name("BM_Mailbox/spinlock")
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Arg(16)
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Latency<LockFreeMailbox>)
    ->Name("BM_Latency/lockfree")
    ->Arg(2)
    ->Arg(8)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Latency<SpinlockMailbox>)
    ->Name("BM_Latency/spinlock")
    ->Arg(2)
    ->Arg(8)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Burst<LockFreeMailbox>)
    ->Name("BM_Burst/lockfree")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Burst<SpinlockMailbox>)
    ->Name("BM_Burst/spinlock")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Collects counters for --table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      Row& row = rows_[run.benchmark_name()];
      for (const auto& [name, counter] : run.counters)
        row[name] = counter.value;
    }
  }
  using Row = std::map<std::string, double>;
  std::map<std::string, Row> rows_;
};

void PrintTable(const TableReporter& reporter) {
  auto get = [&](const std::string& name, const char* counter) {
    auto it = reporter.rows_.find(name);
    if (it == reporter.rows_.end()) return 0.0;
    auto c = it->second.find(counter);
    return c == it->second.end() ? 0.0 : c->second;
  };
  auto name = [](const char* bench, const char* impl, int arg, int iterations) {
    return std::string(bench) + "/" + impl + "/" + std::to_string(arg) +
           "/iterations:" + std::to_string(iterations) + "/manual_time";
  };
  std::printf("\nSaturated senders (latency here is queueing delay behind the backlog):\n\n");
  std::printf("| senders | lock-free msgs/s | spinlock msgs/s | throughput ratio | ");
  std::printf("lock-free p50 / p99 | spinlock p50 / p99 | IPIs per message (lock-free / ");
  std::printf("spinlock) |\n|---|---|---|---|---|---|---|\n");
  for (int senders : {2, 4, 8, 16}) {
    const std::string lf = name("BM_Mailbox", "lockfree", senders, 3);
    const std::string sl = name("BM_Mailbox", "spinlock", senders, 3);
    const double lf_rate = get(lf, "msgs_per_s");
    const double sl_rate = get(sl, "msgs_per_s");
    std::printf("| %d | %.2fM | %.2fM | %.2fx | %.1f / %.1f us | %.1f / %.1f us | %.3f / %.3f |\n",
                senders, lf_rate / 1e6, sl_rate / 1e6, sl_rate > 0 ? lf_rate / sl_rate : 0.0,
                get(lf, "p50_ns") / 1e3, get(lf, "p99_ns") / 1e3, get(sl, "p50_ns") / 1e3,
                get(sl, "p99_ns") / 1e3, get(lf, "ipis_per_msg"), get(sl, "ipis_per_msg"));
  }
  std::printf("\nPaced senders (one message every 20 us each), push-to-drain latency:\n\n");
  std::printf("| senders | lock-free p50 / p99 | spinlock p50 / p99 |\n|---|---|---|\n");
  for (int senders : {2, 8}) {
    const std::string lf = name("BM_Latency", "lockfree", senders, 1);
    const std::string sl = name("BM_Latency", "spinlock", senders, 1);
    std::printf("| %d | %.1f / %.1f us | %.1f / %.1f us |\n", senders, get(lf, "p50_ns") / 1e3,
                get(lf, "p99_ns") / 1e3, get(sl, "p50_ns") / 1e3, get(sl, "p99_ns") / 1e3);
  }
  std::printf("\nOne sender, bursts separated by 50 us pauses:\n\n");
  std::printf("| burst | IPIs per message, lock-free (coalesced) | spinlock (one per message) |\n");
  std::printf("|---|---|---|\n");
  for (int burst : {1, 8, 64}) {
    std::printf("| %d | %.3f | %.3f |\n", burst,
                get(name("BM_Burst", "lockfree", burst, 1), "ipis_per_msg"),
                get(name("BM_Burst", "spinlock", burst, 1), "ipis_per_msg"));
  }
}

}  // namespace
}  // namespace lichen::bench

int main(int argc, char** argv) {
  bool table = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--table") == 0) {
      table = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  lichen::bench::TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (table) lichen::bench::PrintTable(reporter);
  benchmark::Shutdown();
  return 0;
}
