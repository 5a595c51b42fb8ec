// sched::Wait on the real scheduler: a wake, a deadline and an interruption racing across
// CPUs, with the deadline's timer often fired or cancelled on a CPU the waiter has left.
// The checks are about order, never about how fast the host is: a wait reports exactly
// one outcome, a timeout never before its deadline, a wake that came before the deadline
// or the interruption is never lost, and nothing wakes the waiter after its wait returned.
#include "kernel/base/platform.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/sync/waitqueue.h"
#include "ktests/ktest.h"
#include "lib/log.h"
#include "lib/random.h"
#include "lib/units.h"

namespace lichen::ktest {

namespace {

struct Round {
  WaitQueue queue;
  bool ready = false;  // under queue's lock
  uint64_t ready_ns = 0;
  uint64_t deadline_ns = 0;
  uint64_t wake_delay_ns = 0;
  uint64_t interrupt_delay_ns = 0;
  bool interrupt = false;
  Atomic<uint64_t> interrupt_ns{0};
  sched::WaitResult result = sched::WaitResult::kCondition;
  uint64_t returned_ns = 0;
  Task* waiter = nullptr;
  Atomic<bool> returned{false};
  Atomic<bool> release{false};
  Atomic<bool> stale_wake{false};
};

void WaiterBody(void* arg) {
  Round& r = *static_cast<Round*>(arg);
  r.result = r.queue.Wait([&r] { return r.ready; },
                          {.deadline_ns = r.deadline_ns, .interruptible = r.interrupt});
  r.returned_ns = platform::Now();
  sched::ClearInterrupt();
  r.returned.Store(true, std::memory_order_release);
  // The raw protocol until released: a wake left over from the wait ends it early.
  for (;;) {
    sched::PrepareToBlock();
    if (r.release.Load(std::memory_order_acquire)) {
      sched::CancelBlock();
      return;
    }
    sched::Block();
    if (!r.release.Load(std::memory_order_acquire))
      r.stale_wake.Store(true, std::memory_order_relaxed);
  }
}

void WakerBody(void* arg) {
  Round& r = *static_cast<Round*>(arg);
  sched::SleepFor(r.wake_delay_ns);
  r.queue.UpdateAndWakeAll([&r] {
    r.ready = true;
    r.ready_ns = platform::Now();
  });
}

void InterrupterBody(void* arg) {
  Round& r = *static_cast<Round*>(arg);
  sched::SleepFor(r.interrupt_delay_ns);
  r.interrupt_ns.Store(platform::Now(), std::memory_order_release);
  sched::Interrupt(r.waiter);
}

}  // namespace

// 200 rounds: the waiter, the waker and (every other round) an interrupter on random CPUs,
// with the deadline and the wake within 300 us of each other. The waiter is not pinned, so
// it may run, be woken and return on another CPU than the one holding its timer.
KTEST(wait_wake_timeout_interrupt_race) {
  // A fixed seed: QEMU's timing varies the interleavings anyway, and the timings repeat.
  Rng rng(9);
  const uint32_t ncpus = Cpus();
  uint32_t outcomes[3] = {};
  for (uint32_t round = 0; round < 200; ++round) {
    Round r;
    const uint64_t start = platform::Now();
    r.deadline_ns = start + 200 * kUs + rng.Below(300 * kUs);
    r.wake_delay_ns = 200 * kUs + rng.Below(300 * kUs);
    r.interrupt = round % 2 == 1;
    r.interrupt_delay_ns = 200 * kUs + rng.Below(300 * kUs);
    r.waiter = Spawn("waiter", &WaiterBody, &r, CpuMask::Single(rng.Below(ncpus)));
    // Later rounds let it go anywhere: its next wakeup may move it away from its timer.
    if (round % 4 >= 2) (void)sched::SetAffinity(r.waiter, CpuMask::FirstN(ncpus));
    Task* waker = Spawn("waker", &WakerBody, &r, CpuMask::Single(rng.Below(ncpus)));
    Task* interrupter =
        r.interrupt ? Spawn("interrupter", &InterrupterBody, &r, CpuMask::Single(rng.Below(ncpus)))
                    : nullptr;
    WaitFor([&] { return r.returned.Load(std::memory_order_acquire); }, WaitLimitNs(),
            "the waiter's return");
    sched::Join(waker);
    if (interrupter != nullptr) sched::Join(interrupter);
    sched::SleepFor(500 * kUs);  // time for a stale wake to land
    r.release.Store(true, std::memory_order_release);
    sched::Wake(r.waiter);
    sched::Join(r.waiter);

    ++outcomes[static_cast<uint32_t>(r.result)];
    KTEST_CHECK(!r.stale_wake.Load(std::memory_order_relaxed),
                "round {}: the waiter was woken after its wait returned {}", round,
                sched::WaitResultName(r.result));
    const uint64_t interrupt_ns = r.interrupt_ns.Load(std::memory_order_acquire);
    switch (r.result) {
      case sched::WaitResult::kCondition:
        KTEST_CHECK(r.ready_ns != 0 && r.ready_ns <= r.returned_ns,
                    "round {}: condition reported before it held", round);
        break;
      case sched::WaitResult::kTimedOut:
        KTEST_CHECK(r.returned_ns >= r.deadline_ns && r.ready_ns >= r.deadline_ns,
                    "round {}: timed out at {} (deadline {}) with the wake at {}", round,
                    r.returned_ns, r.deadline_ns, r.ready_ns);
        break;
      case sched::WaitResult::kInterrupted:
        KTEST_CHECK(r.interrupt && interrupt_ns != 0 && r.ready_ns >= interrupt_ns,
                    "round {}: interrupted (asked at {}) with the wake at {}", round, interrupt_ns,
                    r.ready_ns);
        break;
    }
  }
  LICHEN_LOG_INFO("wait race: {} condition, {} timed out, {} interrupted", outcomes[0], outcomes[1],
                  outcomes[2]);
}

}  // namespace lichen::ktest
