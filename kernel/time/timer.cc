#include "kernel/time/timer.h"

namespace lichen::time {

void TimerQueueBase::Add(TimerNode& event, uint64_t deadline_ns) {
  if (event.queued) tree_.Remove(event);
  event.deadline_ns = deadline_ns;
  event.seq = next_seq_++;
  event.queued = true;
  tree_.Insert(event);
}

void TimerQueueBase::Cancel(TimerNode& event) {
  if (!event.queued) return;
  tree_.Remove(event);
  event.queued = false;
}

uint64_t TimerQueueBase::Earliest() const {
  const TimerNode* first = tree_.First();
  return first == nullptr ? kNever : first->deadline_ns;
}

TimerNode* TimerQueueBase::PopExpired(uint64_t now_ns) {
  TimerNode* first = tree_.First();
  if (first == nullptr || first->deadline_ns > now_ns) return nullptr;
  tree_.Remove(*first);
  first->queued = false;
  return first;
}

}  // namespace lichen::time
