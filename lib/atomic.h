// lichen::Atomic<T>: std::atomic with an interleaving point before every operation.
//
// Shared state in the core uses this type instead of std::atomic. On the aarch64 kernel the
// hook compiles away; on the host, the deterministic simulator installs a per-thread callback
// that may switch to another virtual CPU or deliver an interrupt before the operation runs,
// which is how it explores the orderings a real machine could produce. Memory orders are
// always spelled out at the call site: no operation has a hidden seq_cst default.
//
// Weak memory. Interleaving alone explores sequentially consistent executions only: every
// simulated CPU runs on one host thread. The simulator can also install a memory model
// (MemoryModelHooks) that gives each virtual CPU a store buffer: a store weaker than seq_cst
// is buffered and becomes visible to the other CPUs later, its own CPU reads it back at once,
// a seq_cst store (or fence) first empties the buffer, and a read-modify-write does so when it
// releases. That is how a memory order weakened by mistake (a relaxed store where a Dekker
// pair needs seq_cst, a relaxed publishing CAS) becomes a failing simulator run instead of a
// bug that only a weakly ordered machine shows (docs/simulator.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace lichen {

#if defined(LICHEN_INTERLEAVE_HOOK)
// Installed by the simulator for the host thread that runs it; null elsewhere (real host
// threads in benchmarks and ThreadSanitizer tests).
extern thread_local void (*g_interleave_hook)();
inline void InterleavePoint() {
  if (g_interleave_hook != nullptr) g_interleave_hook();
}

// The simulator's weak-memory model (platform/sim). Values travel as up to 64 bits.
struct MemoryModelHooks {
  using Write = void (*)(void* object, uint64_t bits);
  // A store: true when the model buffered it (it calls `write` when the store becomes
  // visible), false when the caller performs it now.
  bool (*store)(void* object, uint64_t bits, Write write, std::memory_order order);
  // A load by the running CPU: true, with the newest value this CPU buffered for `object`.
  bool (*forward)(const void* object, uint64_t* bits);
  // Before a read-modify-write of `object` with `order`: makes the buffered stores visible
  // that must be ordered before it (all of them when it releases, those to `object` always).
  void (*before_rmw)(const void* object, std::memory_order order);
  // A fence.
  void (*fence)(std::memory_order order);
};
extern thread_local const MemoryModelHooks* g_memory_model;
#else
inline void InterleavePoint() {}
#endif

// std::atomic_thread_fence, seen by the simulator's memory model.
inline void ThreadFence(std::memory_order order) {
#if defined(LICHEN_INTERLEAVE_HOOK)
  InterleavePoint();
  if (g_memory_model != nullptr) g_memory_model->fence(order);
#endif
  std::atomic_thread_fence(order);
}

template <typename T>
class Atomic {
 public:
  constexpr Atomic() : value_{} {}
  constexpr explicit Atomic(T value) : value_(value) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T Load(std::memory_order order) const {
    InterleavePoint();
#if defined(LICHEN_INTERLEAVE_HOOK)
    uint64_t bits = 0;
    if (g_memory_model != nullptr && g_memory_model->forward(&value_, &bits)) {
      return FromBits(bits);
    }
#endif
    return value_.load(order);
  }
  void Store(T value, std::memory_order order) {
    InterleavePoint();
#if defined(LICHEN_INTERLEAVE_HOOK)
    if (g_memory_model != nullptr &&
        g_memory_model->store(&value_, ToBits(value), &WriteBits, order)) {
      return;
    }
#endif
    value_.store(value, order);
  }
  T Exchange(T value, std::memory_order order) {
    BeforeRmw(order);
    return value_.exchange(value, order);
  }
  // Strong compare-exchange; on failure `expected` receives the current value.
  bool CompareExchange(T& expected, T desired, std::memory_order success,
                       std::memory_order failure) {
    BeforeRmw(success);
    return value_.compare_exchange_strong(expected, desired, success, failure);
  }
  T FetchAdd(T delta, std::memory_order order) {
    BeforeRmw(order);
    return value_.fetch_add(delta, order);
  }
  T FetchSub(T delta, std::memory_order order) {
    BeforeRmw(order);
    return value_.fetch_sub(delta, order);
  }
  T FetchOr(T bits, std::memory_order order) {
    BeforeRmw(order);
    return value_.fetch_or(bits, order);
  }
  T FetchAnd(T bits, std::memory_order order) {
    BeforeRmw(order);
    return value_.fetch_and(bits, order);
  }

  // Owner-only convenience for counters that exactly one CPU writes and others read:
  // a relaxed load and store, not an atomic read-modify-write.
  void AddRelaxedOwner(T delta) {
    Store(Load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

 private:
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t),
                "Atomic<T> holds at most 64 bits");

  void BeforeRmw([[maybe_unused]] std::memory_order order) {
    InterleavePoint();
#if defined(LICHEN_INTERLEAVE_HOOK)
    if (g_memory_model != nullptr) g_memory_model->before_rmw(&value_, order);
#endif
  }

#if defined(LICHEN_INTERLEAVE_HOOK)
  static uint64_t ToBits(T value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    return bits;
  }
  static T FromBits(uint64_t bits) {
    T value;
    std::memcpy(&value, &bits, sizeof(T));
    return value;
  }
  static void WriteBits(void* object, uint64_t bits) {
    static_cast<std::atomic<T>*>(object)->store(FromBits(bits), std::memory_order_relaxed);
  }
#endif

  std::atomic<T> value_;
};

}  // namespace lichen
