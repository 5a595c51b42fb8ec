// lichen::Atomic<T>: std::atomic with an interleaving point before every operation.
//
// Shared state in the core uses this type instead of std::atomic. On the aarch64 kernel the
// hook compiles away; on the host, the deterministic simulator installs a per-thread callback
// that may switch to another virtual CPU or deliver an interrupt before the operation runs,
// which is how it explores the orderings a real machine could produce. Memory orders are
// always spelled out at the call site: no operation has a hidden seq_cst default.
#pragma once

#include <atomic>

namespace lichen {

#if defined(LICHEN_INTERLEAVE_HOOK)
// Installed by the simulator for the host thread that runs it; null elsewhere (real host
// threads in benchmarks and ThreadSanitizer tests).
extern thread_local void (*g_interleave_hook)();
inline void InterleavePoint() {
  if (g_interleave_hook != nullptr) g_interleave_hook();
}
#else
inline void InterleavePoint() {}
#endif

template <typename T>
class Atomic {
 public:
  constexpr Atomic() : value_{} {}
  constexpr explicit Atomic(T value) : value_(value) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T Load(std::memory_order order) const {
    InterleavePoint();
    return value_.load(order);
  }
  void Store(T value, std::memory_order order) {
    InterleavePoint();
    value_.store(value, order);
  }
  T Exchange(T value, std::memory_order order) {
    InterleavePoint();
    return value_.exchange(value, order);
  }
  // Strong compare-exchange; on failure `expected` receives the current value.
  bool CompareExchange(T& expected, T desired, std::memory_order success,
                       std::memory_order failure) {
    InterleavePoint();
    return value_.compare_exchange_strong(expected, desired, success, failure);
  }
  T FetchAdd(T delta, std::memory_order order) {
    InterleavePoint();
    return value_.fetch_add(delta, order);
  }
  T FetchSub(T delta, std::memory_order order) {
    InterleavePoint();
    return value_.fetch_sub(delta, order);
  }
  T FetchOr(T bits, std::memory_order order) {
    InterleavePoint();
    return value_.fetch_or(bits, order);
  }
  T FetchAnd(T bits, std::memory_order order) {
    InterleavePoint();
    return value_.fetch_and(bits, order);
  }

  // Owner-only convenience for counters that exactly one CPU writes and others read:
  // a relaxed load and store, not an atomic read-modify-write.
  void AddRelaxedOwner(T delta) {
    Store(Load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

 private:
  std::atomic<T> value_;
};

}  // namespace lichen
