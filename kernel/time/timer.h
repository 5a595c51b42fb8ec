// Per-CPU timer queue.
//
// Every timed event of a CPU -- a sleeping task's wakeup, the running task's slice expiry,
// the periodic balance -- is an event in that CPU's queue, and the CPU's one hardware
// timer is armed for the earliest of them (or disarmed when there is none: no periodic tick
// on an idle CPU). Only the owning CPU touches its queue, with IRQs masked; events fire in
// its timer interrupt. So a slice-expiry event always fires on the CPU that runs the task,
// which is the fix for the seed's "preemption event fired on the wrong CPU".
#pragma once

#include <cstdint>

#include "lib/rbtree.h"

// This part knows deadlines and their order, not what firing one means: that belongs to the
// queue's owner, which derives its event type from TimerNode (the scheduler's
// sched::TimerEvent adds the callback and the CPU it runs on). So time/ depends on lib/ only.
namespace lichen::time {

inline constexpr uint64_t kNever = ~uint64_t{0};

// A deadline in a TimerQueue. Owners embed it as the base of their event type.
struct TimerNode {
  constexpr TimerNode() = default;
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;

  RbNode node;
  uint64_t deadline_ns = kNever;
  uint64_t seq = 0;  // insertion order: equal deadlines fire first-in first-out
  bool queued = false;
};

class TimerQueueBase {
 public:
  TimerQueueBase() = default;
  TimerQueueBase(const TimerQueueBase&) = delete;
  TimerQueueBase& operator=(const TimerQueueBase&) = delete;

  // Queues `event` to fire at `deadline_ns`, moving it if it is already queued.
  void Add(TimerNode& event, uint64_t deadline_ns);
  // Removes `event` if it is queued.
  void Cancel(TimerNode& event);
  // Deadline of the earliest event, or kNever.
  uint64_t Earliest() const;
  // Removes and returns the earliest event whose deadline is <= now_ns, or nullptr.
  TimerNode* PopExpired(uint64_t now_ns);
  uint32_t Size() const { return static_cast<uint32_t>(tree_.Size()); }

 private:
  struct Order {
    static bool Less(const TimerNode& a, const TimerNode& b) {
      return a.deadline_ns != b.deadline_ns ? a.deadline_ns < b.deadline_ns : a.seq < b.seq;
    }
    static void Augment(TimerNode&, const TimerNode*, const TimerNode*) {}
  };
  RbTree<TimerNode, &TimerNode::node, Order> tree_;
  uint64_t next_seq_ = 0;
};

// A queue that holds only `Event`s (each derived from TimerNode), so what PopExpired()
// returns is known to be one.
template <typename Event>
class TimerQueue : private TimerQueueBase {
 public:
  void Add(Event& event, uint64_t deadline_ns) { TimerQueueBase::Add(event, deadline_ns); }
  void Cancel(Event& event) { TimerQueueBase::Cancel(event); }
  Event* PopExpired(uint64_t now_ns) {
    return static_cast<Event*>(TimerQueueBase::PopExpired(now_ns));
  }
  using TimerQueueBase::Earliest;
  using TimerQueueBase::Size;
};

}  // namespace lichen::time
