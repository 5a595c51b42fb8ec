// The core's lock-free protocols under a relaxed memory model (Relacy, the C++11 model).
//
// The simulator runs every virtual CPU on one host thread, so its executions are sequentially
// consistent, and its store buffers show store-to-load reordering only (docs/simulator.md).
// Here each protocol is written out as the kernel runs it -- the same steps, and the memory
// orders taken from the kernel's own headers (kernel/sched/orders.h, kernel/smp/orders.h) --
// and Relacy explores its executions under the full C++ model. Each model must hold with the
// kernel's orders, and must fail when any one of those orders is weakened: that shows the
// model can see the bug the order prevents, so weakening it in the kernel fails this test.
//
// Run by CTest (label relacy); on failure Relacy prints the offending execution.
//
// Relacy redefines memory_order_* and even `delete` as macros: everything from the standard
// library and the kernel is included first, and below its include the orders are spelled
// std::memory_order::x, which those macros do not touch.
#include <atomic>
#include <cstdio>
#include <sstream>
#include <string>

#include "kernel/sched/orders.h"
#include "kernel/smp/orders.h"

#include <relacy/relacy.hpp>  // NOLINT: must come last (see above)

namespace {

constexpr rl::memory_order Rl(std::memory_order order) {
  switch (order) {
    case std::memory_order::relaxed:
      return rl::mo_relaxed;
    case std::memory_order::consume:
      return rl::mo_consume;
    case std::memory_order::acquire:
      return rl::mo_acquire;
    case std::memory_order::release:
      return rl::mo_release;
    case std::memory_order::acq_rel:
      return rl::mo_acq_rel;
    case std::memory_order::seq_cst:
      return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

// ---- The task state hand-off: PrepareToBlock / Block / Wake (kernel/sched/block.cc) -------
enum State : int { kRunning, kBlocking, kWokenWhileRunning, kSleeping, kRunnable };

template <std::memory_order kAnnounceBlocking, std::memory_order kAnnounceBlockingBarrier,
          std::memory_order kWakeBarrier>
struct HandOff
    : rl::test_suite<HandOff<kAnnounceBlocking, kAnnounceBlockingBarrier, kWakeBarrier>, 2> {
  rl::atomic<int> state;      // Task::state
  rl::atomic<int> condition;  // what the sleeper waits for (CallOn's done, a deadline fired)

  void before() {
    state($).store(kRunning, rl::mo_relaxed);
    condition($).store(0, rl::mo_relaxed);
  }

  void thread(unsigned index) {
    if (index == 0) {
      // The sleeper: sched::Wait's loop body, once.
      state($).store(kBlocking, Rl(kAnnounceBlocking));  // PrepareToBlock
      if (kAnnounceBlockingBarrier != std::memory_order::relaxed) {
        rl::atomic_thread_fence(Rl(kAnnounceBlockingBarrier), $);
      }
      // The caller's condition check (sched::Wait's `check`), an acquire load as most are.
      if (condition($).load(rl::mo_acquire) != 0) {
        int expected = kBlocking;  // CancelBlock
        if (!state($).compare_exchange_strong(expected, kRunning, rl::mo_acq_rel)) {
          state($).store(kRunning, rl::mo_relaxed);
        }
        return;
      }
      // Block(): the switch settles it (FinishSwitch): kBlocking becomes kSleeping, unless a
      // waker got there first (kWokenWhileRunning: it stays runnable).
      int expected = kBlocking;
      state($).compare_exchange_strong(expected, kSleeping, rl::mo_acq_rel);
    } else {
      // The waker: make the condition true, then Wake().
      condition($).store(1, rl::mo_release);
      if (kWakeBarrier != std::memory_order::relaxed) {
        rl::atomic_thread_fence(Rl(kWakeBarrier), $);
      }
      int seen = state($).load(rl::mo_acquire);
      for (;;) {
        if (seen == kBlocking) {
          if (state($).compare_exchange_strong(seen, kWokenWhileRunning, rl::mo_acq_rel)) break;
        } else if (seen == kSleeping) {
          if (state($).compare_exchange_strong(seen, kRunnable, rl::mo_acq_rel)) break;
        } else {
          break;  // running: it will see the condition
        }
      }
    }
  }

  // A sleeper left asleep beside a true condition is the lost wakeup.
  void after() { RL_ASSERT(state($).load(rl::mo_relaxed) != kSleeping); }
};

// ---- Idle publication against enqueue (kernel/sched/idle.cc, runqueue.cc, balance.cc) ------
template <std::memory_order kPublishIdle, std::memory_order kPublishNrRunning,
          std::memory_order kReadNrRunning, std::memory_order kReadIdle>
struct IdlePublication
    : rl::test_suite<IdlePublication<kPublishIdle, kPublishNrRunning, kReadNrRunning, kReadIdle>,
                     2> {
  rl::atomic<int> idle;        // CpuShared::idle of the idle CPU
  rl::atomic<int> nr_running;  // CpuShared::nr_running of the busy CPU
  rl::var<int> saw_work;
  rl::var<int> kicked;

  void before() {
    idle($).store(0, rl::mo_relaxed);
    nr_running($).store(1, rl::mo_relaxed);  // it runs one task; a second is being queued
    saw_work($) = 0;
    kicked($) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      // IdleLoop: publish idle, then look for work to steal (MaybeSteal).
      idle($).store(1, Rl(kPublishIdle));
      if (nr_running($).load(Rl(kReadNrRunning)) > 1) saw_work($) = 1;
    } else {
      // Enqueue on the busy CPU: publish nr_running (Publish), then look for an idle CPU
      // to kick (KickIdleCpu).
      nr_running($).store(2, Rl(kPublishNrRunning));
      if (idle($).load(Rl(kReadIdle)) != 0) kicked($) = 1;
    }
  }

  // Otherwise the idle CPU sleeps in WFI while a task waits that it could run.
  void after() { RL_ASSERT(saw_work($) != 0 || kicked($) != 0); }
};

// ---- The mailbox: Push + Kick against the owner's drain (kernel/smp/messenger.cc) ----------
template <std::memory_order kSetIpiPending, std::memory_order kClearIpiPending>
struct Mailbox : rl::test_suite<Mailbox<kSetIpiPending, kClearIpiPending>, 2> {
  rl::atomic<int> head;         // MpscList head: 0 empty, 1 the sender's message
  rl::atomic<int> ipi_pending;  // Mailbox::ipi_pending
  rl::var<int> took;
  rl::var<int> sent_ipi;

  void before() {
    head($).store(0, rl::mo_relaxed);
    ipi_pending($).store(1, rl::mo_relaxed);  // the owner is handling an earlier IPI
    took($) = 0;
    sent_ipi($) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      // The owner's drain (TakeInbox): clear the flag, then take the whole list.
      ipi_pending($).store(0, Rl(kClearIpiPending));
      if (head($).exchange(0, rl::mo_acquire) != 0) took($) = 1;  // MpscList::TakeAll
    } else {
      // The sender: MpscList::Push (a release CAS), then Kick.
      int expected = 0;
      head($).compare_exchange_strong(expected, 1, rl::mo_release);
      if (ipi_pending($).exchange(1, Rl(kSetIpiPending)) == 0) sent_ipi($) = 1;
    }
  }

  // Otherwise the message waits in the mailbox with no IPI on its way.
  void after() { RL_ASSERT(took($) != 0 || sent_ipi($) != 0); }
};

int g_failures = 0;

// Runs `Test` and compares the outcome with `expect_ok`.
template <typename Test>
void Check(const char* name, bool expect_ok) {
  rl::test_params params;
  params.iteration_count = 200000;
  std::ostringstream quiet;
  params.output_stream = &quiet;
  params.progress_stream = &quiet;
  const bool ok = rl::simulate<Test>(params);
  const bool as_expected = ok == expect_ok;
  std::printf("%-4s %-62s %s\n", as_expected ? "ok" : "FAIL", name,
              ok ? "holds" : "broken (Relacy found an execution)");
  if (!as_expected) {
    ++g_failures;
    if (!ok) std::fputs(quiet.str().c_str(), stdout);
  }
}

}  // namespace

int main() {
  using namespace lichen;
  constexpr auto relaxed = std::memory_order::relaxed;
  constexpr auto release = std::memory_order::release;
  constexpr auto acquire = std::memory_order::acquire;
  constexpr auto acq_rel = std::memory_order::acq_rel;
  namespace so = sched::orders;
  namespace mo = smp::orders;

  Check<HandOff<so::kAnnounceBlocking, so::kAnnounceBlockingBarrier, so::kWakeBarrier>>(
      "hand-off, the kernel's orders", true);
  // What the kernel had until this test: the seq_cst store and no barrier after it.
  Check<HandOff<so::kAnnounceBlocking, relaxed, so::kWakeBarrier>>(
      "hand-off, no barrier after kBlocking", false);
  Check<HandOff<so::kAnnounceBlocking, acq_rel, so::kWakeBarrier>>(
      "hand-off, acq_rel barrier after kBlocking", false);
  Check<HandOff<so::kAnnounceBlocking, so::kAnnounceBlockingBarrier, acq_rel>>(
      "hand-off, Wake's barrier acq_rel", false);
  Check<HandOff<so::kAnnounceBlocking, so::kAnnounceBlockingBarrier, relaxed>>(
      "hand-off, no barrier in Wake", false);

  Check<
      IdlePublication<so::kPublishIdle, so::kPublishNrRunning, so::kReadNrRunning, so::kReadIdle>>(
      "idle publication, the kernel's orders", true);
  Check<IdlePublication<release, so::kPublishNrRunning, so::kReadNrRunning, so::kReadIdle>>(
      "idle publication, idle stored release", false);
  Check<IdlePublication<so::kPublishIdle, release, so::kReadNrRunning, so::kReadIdle>>(
      "idle publication, nr_running stored release", false);
  Check<IdlePublication<so::kPublishIdle, so::kPublishNrRunning, acquire, so::kReadIdle>>(
      "idle publication, nr_running loaded acquire", false);
  Check<IdlePublication<so::kPublishIdle, so::kPublishNrRunning, so::kReadNrRunning, acquire>>(
      "idle publication, idle loaded acquire", false);

  // Relacy's read-modify-writes always read the newest value, which keeps this protocol
  // correct even with a release clear or an acq_rel set. The simulator's store buffers are
  // stricter there (an acquire RMW on the list does not drain the owner's buffered clear) and
  // catch the release clear (WeakMemory.ARelaxedIpiClearIsCaught): that mutation is theirs.
  Check<Mailbox<mo::kSetIpiPending, mo::kClearIpiPending>>("mailbox, the kernel's orders", true);

  std::printf("%d unexpected outcome(s)\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}
