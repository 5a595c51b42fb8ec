// Per-CPU timer queue.
//
// Every timed event of a CPU -- a sleeping task's wakeup, the running task's slice expiry,
// the periodic balance -- is a TimerEvent in that CPU's queue, and the CPU's one hardware
// timer is armed for the earliest of them (or disarmed when there is none: no periodic tick
// on an idle CPU). Only the owning CPU touches its queue, with IRQs masked; events fire in
// its timer interrupt. So a slice-expiry event always fires on the CPU that runs the task,
// which is the fix for the seed's "preemption event fired on the wrong CPU".
#pragma once

#include <cstdint>

#include "lib/rbtree.h"

namespace lichen {
struct CpuLocal;
}

namespace lichen::time {

inline constexpr uint64_t kNever = ~uint64_t{0};

struct TimerEvent {
  // Runs on the owning CPU, in its timer interrupt, with IRQs masked. May re-add the event.
  using Callback = void (*)(TimerEvent& event, CpuLocal& cpu);

  constexpr explicit TimerEvent(Callback callback) : fire(callback) {}
  TimerEvent(const TimerEvent&) = delete;
  TimerEvent& operator=(const TimerEvent&) = delete;

  RbNode node;
  uint64_t deadline_ns = kNever;
  uint64_t seq = 0;  // insertion order: equal deadlines fire first-in first-out
  Callback fire;
  bool queued = false;
};

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Queues `event` to fire at `deadline_ns`, moving it if it is already queued.
  void Add(TimerEvent& event, uint64_t deadline_ns);
  // Removes `event` if it is queued.
  void Cancel(TimerEvent& event);
  // Deadline of the earliest event, or kNever.
  uint64_t Earliest() const;
  // Removes and returns the earliest event whose deadline is <= now_ns, or nullptr.
  TimerEvent* PopExpired(uint64_t now_ns);
  uint32_t Size() const { return static_cast<uint32_t>(tree_.Size()); }

 private:
  struct Order {
    static bool Less(const TimerEvent& a, const TimerEvent& b) {
      return a.deadline_ns != b.deadline_ns ? a.deadline_ns < b.deadline_ns : a.seq < b.seq;
    }
    static void Augment(TimerEvent&, const TimerEvent*, const TimerEvent*) {}
  };
  RbTree<TimerEvent, &TimerEvent::node, Order> tree_;
  uint64_t next_seq_ = 0;
};

}  // namespace lichen::time
