// Unit tests of the EEVDF run queue: the arithmetic helpers, each flag and each edge case.
#include "kernel/sched/eevdf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "lib/random.h"

namespace lichen::sched {
namespace {

using Int128 = __int128;

// A queue that dequeues what is left at the end of a test, so the containers end empty.
class EevdfQueue : public ::testing::Test {
 protected:
  void TearDown() override { Drain(rq_); }

  static void Drain(RunQueue& rq, std::vector<SchedEntity*> entities) {
    rq.SetCurrent(nullptr, 0);
    for (SchedEntity* se : entities) {
      if (se->on_rq) rq.Dequeue(*se, kDequeueSleep, 0);
    }
  }
  void Drain(RunQueue& rq) { Drain(rq, all_); }

  SchedEntity& Make(uint64_t id, int nice = 0) {
    storage_.push_back(std::make_unique<SchedEntity>());
    SchedEntity& se = *storage_.back();
    se.id = id;
    se.SetNice(nice);
    all_.push_back(&se);
    return se;
  }

  RunQueue rq_{1};
  std::vector<std::unique_ptr<SchedEntity>> storage_;
  std::vector<SchedEntity*> all_;
};

// ---- Arithmetic -------------------------------------------------------------------------------

TEST(EevdfWeights, TableAndClamp) {
  EXPECT_EQ(WeightForNice(0), 1024u);
  EXPECT_EQ(WeightForNice(-20), 88761u);
  EXPECT_EQ(WeightForNice(19), 15u);
  EXPECT_EQ(WeightForNice(-21), 88761u);
  EXPECT_EQ(WeightForNice(25), 15u);
  EXPECT_EQ(WeightForNice(1), 820u);
  EXPECT_EQ(WeightForNice(-1), 1277u);
  // Every step is about 1.25x.
  for (int nice = kMinNice; nice < kMaxNice; ++nice) {
    const double ratio =
        static_cast<double>(WeightForNice(nice)) / static_cast<double>(WeightForNice(nice + 1));
    EXPECT_NEAR(ratio, 1.25, 0.06) << nice;  // 18 / 15 = 1.2 at the light end.
  }
}

TEST(EevdfSlices, BaseSliceAndClamp) {
  EXPECT_EQ(BaseSliceNs(0), 700'000u);
  EXPECT_EQ(BaseSliceNs(1), 700'000u);
  EXPECT_EQ(BaseSliceNs(2), 1'400'000u);
  EXPECT_EQ(BaseSliceNs(3), 1'400'000u);
  EXPECT_EQ(BaseSliceNs(4), 2'100'000u);
  EXPECT_EQ(BaseSliceNs(8), 2'800'000u);
  EXPECT_EQ(BaseSliceNs(64), 2'800'000u);
  EXPECT_EQ(RunQueue(4).BaseSliceNs(), 2'100'000u);

  SchedEntity se;
  se.SetSliceNs(1);
  EXPECT_EQ(se.slice_ns, kMinSliceNs);
  EXPECT_TRUE(se.custom_slice);
  se.SetSliceNs(1'000'000'000);
  EXPECT_EQ(se.slice_ns, kMaxSliceNs);
  se.SetSliceNs(0);
  EXPECT_FALSE(se.custom_slice);
}

TEST(EevdfArithmetic, CalcDeltaFairIsExactFloor) {
  Rng rng(7);
  for (int k = 0; k < 100000; ++k) {
    const uint32_t w = WeightForNice(static_cast<int>(rng.Range(0, 39)) - 20);
    uint64_t delta = rng.Next() >> rng.Below(64);
    const unsigned __int128 exact = (static_cast<unsigned __int128>(delta) * 1024) / w;
    if (exact >> 64 != 0) continue;  // The result must fit in 64 bits.
    ASSERT_EQ(CalcDeltaFair(delta, w), static_cast<uint64_t>(exact)) << delta << " " << w;
  }
}

TEST(EevdfArithmetic, MulDivTruncMatches128BitDivision) {
  Rng rng(8);
  for (int k = 0; k < 100000; ++k) {
    const int64_t x =
        static_cast<int64_t>(rng.Next() >> rng.Range(20, 63)) * (rng.Chance(1, 2) ? -1 : 1);
    const uint64_t mul = WeightForNice(static_cast<int>(rng.Range(0, 39)) - 20);
    const uint64_t div = rng.Chance(1, 2) ? WeightForNice(static_cast<int>(rng.Range(0, 39)) - 20)
                                          : rng.Range(1, uint64_t{1} << 40);
    const Int128 exact = (static_cast<Int128>(x) * mul) / static_cast<Int128>(div);
    if (exact > INT64_MAX || exact < INT64_MIN) continue;
    ASSERT_EQ(MulDivTrunc(x, mul, div), static_cast<int64_t>(exact))
        << x << " " << mul << " " << div;
  }
}

TEST(EevdfArithmetic, FloorDiv128FloorsNegativeAndWideNumerators) {
  EXPECT_EQ(FloorDiv128(-1, 2), -1);
  EXPECT_EQ(FloorDiv128(-2, 2), -1);
  EXPECT_EQ(FloorDiv128(-3, 2), -2);
  EXPECT_EQ(FloorDiv128(3, 2), 1);
  EXPECT_EQ(FloorDiv128(0, 5), 0);
  EXPECT_EQ(FloorDiv128(-5, 1024), -1);
  Rng rng(9);
  for (int k = 0; k < 100000; ++k) {
    const uint64_t d = rng.Range(1, rng.Chance(1, 2) ? 100'000 : (uint64_t{1} << 40));
    // |a| up to about 2^62 * d, so the quotient fits in int64 while a needs up to 103 bits.
    Int128 a = static_cast<Int128>(static_cast<int64_t>(rng.Next() >> rng.Range(2, 63))) *
                   static_cast<Int128>(d) +
               static_cast<Int128>(rng.Below(d));
    if (rng.Chance(1, 2)) a = -a;
    Int128 q = a / static_cast<Int128>(d);
    if (a % static_cast<Int128>(d) != 0 && a < 0) --q;
    ASSERT_EQ(FloorDiv128(a, d), static_cast<int64_t>(q));
  }
}

// ---- Empty queue and single task --------------------------------------------------------------

TEST_F(EevdfQueue, EmptyQueue) {
  EXPECT_EQ(rq_.PickNext(100), nullptr);
  EXPECT_EQ(rq_.NrQueued(), 0u);
  EXPECT_EQ(rq_.Load(), 0u);
  EXPECT_EQ(rq_.Current(), nullptr);
  EXPECT_EQ(rq_.AvgVruntime(), kInitialVruntime);
  EXPECT_EQ(rq_.NsUntilDeadline(100), kNoDeadline);
  EXPECT_FALSE(rq_.UpdateCurrent(200));
  EXPECT_EQ(rq_.OldestWaiting(), nullptr);
  rq_.SetCurrent(nullptr, 300);
  rq_.CheckInvariants();
}

TEST_F(EevdfQueue, SingleTaskRunsAndRenewsItsDeadline) {
  SchedEntity& a = Make(1);
  rq_.Enqueue(a, kEnqueueNew, 1000);
  EXPECT_TRUE(a.on_rq);
  EXPECT_FALSE(a.new_task);
  EXPECT_EQ(a.vruntime, kInitialVruntime);          // V of an empty queue is v0.
  EXPECT_EQ(a.deadline, a.vruntime + 700'000 / 2);  // PLACE_DEADLINE_INITIAL: half a slice.
  EXPECT_EQ(rq_.PickNext(1000), &a);
  rq_.SetCurrent(&a, 1000);
  EXPECT_EQ(rq_.Current(), &a);
  EXPECT_EQ(rq_.OldestWaiting(), nullptr);
  EXPECT_EQ(rq_.NsUntilDeadline(1000), 350'000u);
  EXPECT_FALSE(rq_.UpdateCurrent(1000 + 349'999));
  EXPECT_TRUE(rq_.UpdateCurrent(1000 + 350'000));
  EXPECT_EQ(a.sum_exec_ns, 350'000u);
  EXPECT_EQ(a.deadline, a.vruntime + 700'000);  // Renewed with a full slice.
  EXPECT_EQ(rq_.AvgVruntime(), a.vruntime);     // Alone, V is its vruntime...
  EXPECT_TRUE(rq_.Eligible(a));                 // ...so it is always eligible.
  EXPECT_EQ(rq_.BaseVruntime(), a.vruntime);    // And v0 followed it (crossing the u64 wrap).
  EXPECT_EQ(rq_.PickNext(2'000'000), &a);
  rq_.CheckInvariants();
  rq_.Dequeue(a, kDequeueSleep, 2'000'000);
  EXPECT_EQ(rq_.Current(), nullptr);
  EXPECT_EQ(a.vlag, 0);
  EXPECT_EQ(rq_.NrQueued(), 0u);
  rq_.CheckInvariants();
}

// ---- Placement flags --------------------------------------------------------------------------

TEST_F(EevdfQueue, WakeupPlacesWithInflatedLagAndFullSlice) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  const uint64_t avg = rq_.AvgVruntime();
  b.new_task = false;
  b.vlag = 300'000;  // Owed 0.3 ms of virtual time.
  rq_.Enqueue(b, kEnqueueWakeup, 0);
  // lag = vlag * (W + w) / W = 300000 * 2048 / 1024.
  EXPECT_EQ(b.vruntime, avg - 600'000);
  EXPECT_EQ(b.deadline, b.vruntime + 700'000);
  // Against the new V, b has exactly its saved lag back.
  EXPECT_EQ(VDiff(rq_.AvgVruntime(), b.vruntime), 300'000);
  EXPECT_TRUE(rq_.Eligible(b));
  EXPECT_LT(VDiff(b.vruntime, a.vruntime), 0);  // Placed earlier than the task that ran.
  rq_.CheckInvariants();
}

TEST_F(EevdfQueue, NewIgnoresStoredLag) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  rq_.Enqueue(a, kEnqueueNew, 0);
  b.vlag = 12345;
  b.new_task = false;
  rq_.Enqueue(b, kEnqueueNew, 0);
  EXPECT_EQ(b.vlag, 0);
  EXPECT_EQ(b.vruntime, a.vruntime);
  EXPECT_EQ(b.deadline, b.vruntime + 350'000);
}

TEST_F(EevdfQueue, LagClampOnDequeue) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2, 19);  // Light: a big virtual clamp.
  SchedEntity& c = Make(3);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.Enqueue(c, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  // a runs 10 s without a switch: b and c fall far behind V, a far ahead.
  rq_.UpdateCurrent(10'000'000'000);
  rq_.Dequeue(c, kDequeueSleep, 10'000'000'000);
  // c's limit: calc_delta_fair(max(2 * 0.7 ms, 1 ms)) at weight 1024 = 1.4 ms.
  EXPECT_EQ(c.vlag, 1'400'000);
  rq_.Dequeue(a, kDequeueSleep, 10'000'000'000);
  EXPECT_EQ(a.vlag, -1'400'000);
  // b alone: V = v, lag 0; give it a custom slice to see the tick floor at weight 15.
  b.SetSliceNs(kMinSliceNs);
  rq_.Dequeue(b, kDequeueSleep, 10'000'000'000);
  EXPECT_EQ(b.vlag, 0);
  EXPECT_EQ(CalcDeltaFair(kTickNs, 15), 1'000'000ull * 1024 / 15);
}

TEST_F(EevdfQueue, RelDeadlineRoundTripAcrossQueues) {
  RunQueue other(4, 12345);
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  SchedEntity& m = Make(3);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(m, kEnqueueNew, 0);
  rq_.SetCurrent(&m, 0);
  rq_.UpdateCurrent(200'000);
  const int64_t remaining = VDiff(m.deadline, m.vruntime);
  rq_.Dequeue(m, kDequeueMigrate, 200'000);
  EXPECT_TRUE(m.rel_deadline);
  EXPECT_EQ(static_cast<int64_t>(m.deadline), remaining);
  other.Enqueue(b, kEnqueueNew, 200'000);
  other.Enqueue(m, kEnqueueMigrated, 200'000);
  EXPECT_FALSE(m.rel_deadline);
  EXPECT_EQ(VDiff(m.deadline, m.vruntime), remaining);  // The request went along.
  other.CheckInvariants();
  Drain(other, {&b, &m});
}

// ---- Reweight ---------------------------------------------------------------------------------

TEST_F(EevdfQueue, ReweightCurrentKeepsV) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  SchedEntity& c = Make(3, 5);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.Enqueue(c, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  rq_.UpdateCurrent(300'000);
  const uint64_t avg = rq_.AvgVruntime();
  const int64_t lag_before = VDiff(avg, a.vruntime);
  const uint64_t ns_left = rq_.NsUntilDeadline(300'000);
  rq_.Reweight(a, -5, 300'000);
  EXPECT_EQ(a.weight, 3121u);
  EXPECT_EQ(a.nice, -5);
  // v' = V - (V - v) * w / w'.
  EXPECT_EQ(VDiff(avg, a.vruntime), lag_before * 1024 / 3121);
  // V moves by rounding only.
  EXPECT_LE(std::abs(VDiff(rq_.AvgVruntime(), avg)), 1);
  // The real time left in the request is unchanged (up to rounding).
  EXPECT_NEAR(static_cast<double>(rq_.NsUntilDeadline(300'000)), static_cast<double>(ns_left), 4.0);
  rq_.CheckInvariants();
  // Queued (in the tree) and dequeued entities too.
  rq_.Reweight(b, 10, 300'000);
  EXPECT_EQ(b.weight, 110u);
  rq_.CheckInvariants();
  rq_.Dequeue(c, kDequeueSleep, 300'000);
  const int64_t vlag = c.vlag;
  rq_.Reweight(c, 0, 300'000);
  EXPECT_EQ(c.vlag, vlag * 335 / 1024);
}

// Linux clamps the lag on a reweight exactly as on a dequeue, at the old weight, before it
// rescales it. The scenario of the issue that found the difference: two nice -20 entities, one
// with a 3 ms slice; the other runs 158 ms alone. Each is then reniced. Unclamped, the waiting
// one kept its whole 79 ms credit (weighted lag 80.9e9) and the runner its whole debt, so
// whoever was reniced down ran or waited ~80 ms where Linux allows a few ms.
TEST_F(EevdfQueue, ReweightClampsTheLagFirstAsLinuxDoes) {
  constexpr uint64_t kRan = 158'000'000;
  SchedEntity& a = Make(1, -20);
  SchedEntity& b = Make(2, -20);
  b.SetSliceNs(3'000'000);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  rq_.UpdateCurrent(kRan);
  // Before: a is 79 ms of weight-1024 time ahead of V, b as far behind.
  EXPECT_NEAR(static_cast<double>(rq_.Lag(a)), -79e6 * 1024, 1e6 * 1024);
  EXPECT_NEAR(static_cast<double>(rq_.Lag(b)), 79e6 * 1024, 1e6 * 1024);

  // The waiting entity (in the tree): V - v is clamped to max(2 x 3 ms, a tick) at weight
  // 88761, then scaled by 88761 / 1024.
  const int64_t b_limit = static_cast<int64_t>(CalcDeltaFair(2 * b.slice_ns, 88761));
  uint64_t avg = rq_.AvgVruntime();
  ASSERT_GT(VDiff(avg, b.vruntime), 10 * b_limit);  // Far beyond the clamp.
  rq_.Reweight(b, 0, kRan);
  EXPECT_EQ(VDiff(avg, b.vruntime), MulDivTrunc(b_limit, 88761, 1024));
  rq_.CheckInvariants();

  // The current entity, reniced to +8: clamped to 2 x 0.7 ms at weight 88761, scaled to 172.
  const int64_t a_limit = static_cast<int64_t>(CalcDeltaFair(2 * a.slice_ns, 88761));
  avg = rq_.AvgVruntime();
  ASSERT_LT(VDiff(avg, a.vruntime), -a_limit);
  rq_.Reweight(a, 8, kRan);
  EXPECT_EQ(a.weight, WeightForNice(8));
  EXPECT_EQ(VDiff(avg, a.vruntime), MulDivTrunc(-a_limit, 88761, WeightForNice(8)));
  rq_.CheckInvariants();
  // The lags still sum to zero, and neither is anywhere near the unclamped 80.9e9.
  EXPECT_LE(std::abs(rq_.Lag(a) + rq_.Lag(b)), 2 * 88761);
  EXPECT_LT(std::abs(rq_.Lag(b)), int64_t{7'000'000} * 1024);
  EXPECT_EQ(rq_.PickNext(kRan), &b);
}

// CheckInvariants recomputes both augmentations of every node; a stale min_slice_ns (the bound
// of the current entity's protection) is as much a corruption as a stale min_vruntime.
TEST_F(EevdfQueue, CheckInvariantsCatchesAStaleMinSlice) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  b.SetSliceNs(3'000'000);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.CheckInvariants();
  const uint64_t good = b.min_slice_ns;
  b.min_slice_ns = good + 1;
  EXPECT_DEATH(rq_.CheckInvariants(), "run queue tree");
  b.min_slice_ns = good;
  const uint64_t good_v = b.min_vruntime;
  b.min_vruntime = good_v + 1;
  EXPECT_DEATH(rq_.CheckInvariants(), "run queue tree");
  b.min_vruntime = good_v;
  rq_.CheckInvariants();
}

// ---- Wrap-safety ------------------------------------------------------------------------------

// The same schedule on a queue whose clock starts at 0 and on one that starts just below 2^64
// (and crosses the wrap) must give the same picks and the same values up to the offset.
TEST_F(EevdfQueue, WrapSafeNearTwoToTheSixtyFour) {
  const uint64_t offset = ~uint64_t{0} - 3'000'000;  // Wraps after 3 ms of virtual time.
  RunQueue low(1, 0);
  RunQueue high(1, offset + 1);
  std::vector<std::unique_ptr<SchedEntity>> el, eh;
  for (int k = 0; k < 6; ++k) {
    el.push_back(std::make_unique<SchedEntity>());
    eh.push_back(std::make_unique<SchedEntity>());
    el[k]->id = eh[k]->id = static_cast<uint64_t>(k + 1);
    el[k]->SetNice(k * 3 - 6);
    eh[k]->SetNice(k * 3 - 6);
    low.Enqueue(*el[k], kEnqueueNew, 0);
    high.Enqueue(*eh[k], kEnqueueNew, 0);
  }
  uint64_t now = 0;
  bool crossed = false;
  for (int step = 0; step < 2000; ++step) {
    SchedEntity* pl = low.PickNext(now);
    SchedEntity* ph = high.PickNext(now);
    ASSERT_EQ(pl->id, ph->id) << step;
    low.SetCurrent(pl, now);
    high.SetCurrent(ph, now);
    now += low.NsUntilDeadline(now);
    ASSERT_EQ(high.NsUntilDeadline(now), low.NsUntilDeadline(now));
    low.UpdateCurrent(now);
    high.UpdateCurrent(now);
    for (int k = 0; k < 6; ++k) {
      ASSERT_EQ(eh[k]->vruntime, el[k]->vruntime + offset + 1);
      ASSERT_EQ(eh[k]->deadline, el[k]->deadline + offset + 1);
    }
    ASSERT_EQ(high.AvgVruntime(), low.AvgVruntime() + offset + 1);
    if (high.AvgVruntime() < offset) crossed = true;
  }
  EXPECT_TRUE(crossed);
  high.CheckInvariants();
  std::vector<SchedEntity*> l, h;
  for (int k = 0; k < 6; ++k) {
    l.push_back(el[k].get());
    h.push_back(eh[k].get());
  }
  Drain(low, l);
  Drain(high, h);
}

// ---- Floor division of a negative A ------------------------------------------------------------

TEST_F(EevdfQueue, AverageFloorsNegativeSum) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  SchedEntity& c = Make(3, 1);  // Weight 820: averages are not whole numbers.
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  rq_.UpdateCurrent(5'000'000);  // v0 follows a.
  // c wakes owed a lot: placed below v0, so its key (v - v0) and A are negative.
  c.new_task = false;
  c.vlag = 777'777;
  rq_.Enqueue(c, kEnqueueWakeup, 5'000'000);
  b.new_task = false;
  b.vlag = 333'333;
  rq_.Enqueue(b, kEnqueueWakeup, 5'000'000);
  ASSERT_LT(VDiff(c.vruntime, rq_.BaseVruntime()), 0);
  // V by definition, floor(sum w v / sum w) with exact 128-bit arithmetic relative to a.
  const Int128 num = static_cast<Int128>(VDiff(b.vruntime, a.vruntime)) * b.weight +
                     static_cast<Int128>(VDiff(c.vruntime, a.vruntime)) * c.weight;
  const Int128 den = a.weight + b.weight + c.weight;
  ASSERT_LT(num, 0);
  ASSERT_NE(num % den, 0);
  const int64_t floor_q = static_cast<int64_t>(num / den) - 1;  // num < 0 and inexact.
  EXPECT_EQ(rq_.AvgVruntime(), a.vruntime + static_cast<uint64_t>(floor_q));
  rq_.CheckInvariants();
}

// ---- Waiting list -----------------------------------------------------------------------------

TEST_F(EevdfQueue, OldestWaitingOrder) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  SchedEntity& c = Make(3);
  rq_.Enqueue(a, kEnqueueNew, 10);
  rq_.Enqueue(b, kEnqueueNew, 20);
  rq_.Enqueue(c, kEnqueueNew, 30);
  EXPECT_EQ(rq_.OldestWaiting(), &a);
  EXPECT_EQ(rq_.NextWaiting(a), &b);
  EXPECT_EQ(rq_.NextWaiting(b), &c);
  EXPECT_EQ(rq_.NextWaiting(c), nullptr);
  EXPECT_EQ(b.wait_start_ns, 20u);
  rq_.SetCurrent(&a, 40);  // a leaves the list...
  EXPECT_EQ(rq_.OldestWaiting(), &b);
  rq_.SetCurrent(&b, 50);  // ...and comes back at the end when it loses the CPU.
  EXPECT_EQ(rq_.OldestWaiting(), &c);
  EXPECT_EQ(rq_.NextWaiting(c), &a);
  EXPECT_EQ(a.wait_start_ns, 50u);
  rq_.Dequeue(c, kDequeueSleep, 60);
  EXPECT_EQ(rq_.OldestWaiting(), &a);
  rq_.CheckInvariants();
}

// ---- Current entity, RUN_TO_PARITY and PREEMPT_SHORT -----------------------------------------

TEST_F(EevdfQueue, DequeueCurrentChargesAndClears) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  rq_.Dequeue(a, kDequeueSleep, 100'000);
  EXPECT_EQ(a.sum_exec_ns, 100'000u);
  EXPECT_EQ(rq_.Current(), nullptr);
  EXPECT_EQ(rq_.NrQueued(), 1u);
  EXPECT_EQ(rq_.Load(), 1024u);
  EXPECT_LT(a.vlag, 0);  // It ran ahead of b.
  EXPECT_EQ(rq_.PickNext(100'000), &b);
  rq_.CheckInvariants();
}

TEST_F(EevdfQueue, RunToParityAndPreemptShort) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  SchedEntity& c = Make(3);
  SchedEntity& s = Make(4);
  a.SetSliceNs(10'000'000);
  b.SetSliceNs(10'000'000);
  c.SetSliceNs(10'000'000);
  s.SetSliceNs(500'000);
  const uint64_t ms = 1'000'000;
  rq_.Enqueue(c, kEnqueueNew, 0);
  rq_.SetCurrent(&c, 0);
  rq_.UpdateCurrent(20 * ms);  // Past its first deadline: no longer protected.
  const uint64_t v = rq_.AvgVruntime();
  // b wakes owed 3 ms: v_b = V - 6 ms (inflated by (W + w) / W = 2), d_b = V + 4 ms. It is the
  // only eligible entity, and c is not protected: b preempts.
  b.new_task = false;
  b.vlag = 3 * ms;
  rq_.Enqueue(b, kEnqueueWakeup, 20 * ms);
  EXPECT_EQ(b.deadline, v + 4 * ms);
  EXPECT_TRUE(rq_.ShouldPreempt(b, 20 * ms));
  rq_.SetCurrent(rq_.PickNext(20 * ms), 20 * ms);
  ASSERT_EQ(rq_.Current(), &b);  // Protected until its deadline.
  rq_.UpdateCurrent(20 * ms + ms / 2);
  // a wakes owed 3 ms too: v_a = V - 7.25 ms, d_a = V + 2.75 ms, before b's deadline, and b
  // (at V - 5.5 ms, V' = V - 4.25 ms) is still eligible. Same slice: RUN_TO_PARITY keeps b.
  a.new_task = false;
  a.vlag = 3 * ms;
  rq_.Enqueue(a, kEnqueueWakeup, 20 * ms + ms / 2);
  ASSERT_TRUE(rq_.Eligible(a));
  ASSERT_TRUE(rq_.Eligible(b));
  ASSERT_LT(VDiff(a.deadline, b.deadline), 0);
  EXPECT_FALSE(rq_.ShouldPreempt(a, 20 * ms + ms / 2));
  EXPECT_EQ(rq_.PickNext(20 * ms + ms / 2), &b);
  // A shorter slice that is eligible and ahead of b lifts the protection (PREEMPT_SHORT), and
  // it stays lifted: the pick is now the earliest eligible deadline, s.
  s.new_task = false;
  rq_.Enqueue(s, kEnqueueWakeup, 20 * ms + ms / 2);
  ASSERT_TRUE(rq_.Eligible(s));
  EXPECT_TRUE(rq_.ShouldPreempt(s, 20 * ms + ms / 2));
  EXPECT_EQ(rq_.PickNext(20 * ms + ms / 2), &s);
  EXPECT_EQ(b.vprot, b.vruntime);
  rq_.CheckInvariants();
}

// Protection lasts at most one slice of the shortest queued request, and NsUntilDecision says
// exactly when an ineligible short-slice waiter can take the CPU: the tickless replacement
// for Linux's re-pick on every tick.
TEST_F(EevdfQueue, ShortRequestWaitsAtMostUntilItIsEligible) {
  SchedEntity& hog = Make(1);
  SchedEntity& s = Make(2);
  hog.SetSliceNs(20'000'000);
  s.SetSliceNs(500'000);
  const uint64_t ms = 1'000'000;
  rq_.Enqueue(hog, kEnqueueNew, 0);
  rq_.SetCurrent(&hog, 0);
  // Alone, it runs to its deadline: the decision point is the deadline.
  EXPECT_EQ(rq_.NsUntilDecision(0), rq_.NsUntilDeadline(0));
  rq_.UpdateCurrent(1 * ms);
  // s comes back owing 0.4 ms of service: not eligible, so no wakeup preemption...
  s.new_task = false;
  s.vlag = -400'000;
  rq_.Enqueue(s, kEnqueueWakeup, 1 * ms);
  ASSERT_FALSE(rq_.Eligible(s));
  EXPECT_FALSE(rq_.ShouldPreempt(s, 1 * ms));
  // ... but the hog's protection shrank to one 0.5 ms slice, and the decision point is when s
  // becomes eligible (its deadline is earlier than the hog's), far before the hog's deadline.
  const uint64_t decision = rq_.NsUntilDecision(1 * ms);
  EXPECT_LT(decision, rq_.NsUntilDeadline(1 * ms));
  // Placed 0.8 ms (the lag inflated by (W + w) / W = 2) after the hog's vruntime, s is 0.4 ms
  // behind the new V. V moves at half the hog's pace, so s is eligible after 0.8 ms more of the
  // hog's running.
  EXPECT_NEAR(static_cast<double>(decision), 0.8e6, 2e3);
  // Never late: one ns before, the hog still wins.
  EXPECT_EQ(rq_.PickNext(1 * ms + decision - 1), &hog);
  // At the decision point s wins (a few ns of rounding allowed).
  EXPECT_EQ(rq_.PickNext(1 * ms + decision + 4), &s);
  rq_.CheckInvariants();
}

// Equal deadlines are broken by id, between the current entity and the tree as well.
TEST_F(EevdfQueue, EqualDeadlinesBreakTiesById) {
  SchedEntity& a = Make(7);
  SchedEntity& b = Make(3);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  // a runs alone exactly to its first deadline: renewed, now unprotected, and V = v_a.
  const uint64_t t = rq_.NsUntilDeadline(0);
  ASSERT_TRUE(rq_.UpdateCurrent(t));
  // b wakes with zero lag: placed at V with a full slice, so d_b == d_a.
  b.new_task = false;
  rq_.Enqueue(b, kEnqueueWakeup, t);
  ASSERT_EQ(b.deadline, a.deadline);
  ASSERT_TRUE(rq_.Eligible(a) && rq_.Eligible(b));
  EXPECT_EQ(rq_.PickNext(t), &b);  // id 3 before id 7.
  rq_.CheckInvariants();
}

TEST_F(EevdfQueue, YieldPushesTheDeadlineAndEndsProtection) {
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.SetCurrent(&a, 0);
  rq_.YieldCurrent(100);  // Alone: nothing to yield to.
  EXPECT_EQ(a.deadline, a.vruntime - 100 + 350'000);
  rq_.Enqueue(b, kEnqueueNew, 100);
  EXPECT_EQ(rq_.PickNext(100), &a);  // Protected, and b's deadline is later anyway.
  const uint64_t d = a.deadline;
  rq_.YieldCurrent(200);
  EXPECT_EQ(a.deadline, d + 700'000);
  EXPECT_EQ(rq_.PickNext(200), &b);
  rq_.CheckInvariants();
}

TEST(EevdfSlices, SetCpuCountRescalesTheDefaultSlice) {
  RunQueue rq(1);
  SchedEntity a;
  a.id = 1;
  rq.SetCpuCount(8);
  EXPECT_EQ(rq.BaseSliceNs(), 2'800'000u);
  rq.Enqueue(a, kEnqueueWakeup, 0);
  EXPECT_EQ(a.slice_ns, 2'800'000u);
  rq.Dequeue(a, kDequeueSleep, 0);
}

TEST_F(EevdfQueue, ShouldPreemptWhenIdle) {
  SchedEntity& a = Make(1);
  rq_.Enqueue(a, kEnqueueNew, 0);
  EXPECT_TRUE(rq_.ShouldPreempt(a, 0));
  rq_.SetCurrent(&a, 0);
  EXPECT_FALSE(rq_.ShouldPreempt(a, 0));  // The current entity does not preempt itself.
}

TEST_F(EevdfQueue, NsUntilDeadlineIsExactAtEveryWeight) {
  for (int nice = kMinNice; nice <= kMaxNice; ++nice) {
    SchedEntity& a = Make(static_cast<uint64_t>(100 + nice), nice);
    a.SetSliceNs(3'333'333);
    rq_.Enqueue(a, kEnqueueWakeup, 0);
    rq_.SetCurrent(&a, 0);
    rq_.UpdateCurrent(1);  // Charge one ns so the deadline gap is arbitrary.
    const uint64_t t = rq_.NsUntilDeadline(1);
    EXPECT_EQ(rq_.NsUntilDeadline(1 + t - 1), 1u);
    // One ns short does not reach the deadline; exactly t does.
    const int64_t gap = VDiff(a.deadline, a.vruntime);
    EXPECT_LT(static_cast<int64_t>(CalcDeltaFair(t - 1, a.weight)), gap) << nice;
    EXPECT_GE(static_cast<int64_t>(CalcDeltaFair(t, a.weight)), gap) << nice;
    EXPECT_TRUE(rq_.UpdateCurrent(1 + t)) << nice;
    rq_.Dequeue(a, kDequeueSleep, 1 + t);
  }
}

// ---- CheckInvariants can fail -----------------------------------------------------------------

using EevdfQueueDeathTest = EevdfQueue;

TEST_F(EevdfQueueDeathTest, CheckInvariantsCatchesACorruptedEntity) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SchedEntity& a = Make(1);
  SchedEntity& b = Make(2);
  rq_.Enqueue(a, kEnqueueNew, 0);
  rq_.Enqueue(b, kEnqueueNew, 0);
  rq_.CheckInvariants();
  EXPECT_DEATH(
      {
        b.vruntime += 5;  // Behind the queue's back: the average and the augmentation drift.
        rq_.CheckInvariants();
      },
      "PANIC");
  EXPECT_DEATH(
      {
        rq_.SetCurrent(&a, 0);
        a.weight = 2000;
        rq_.CheckInvariants();
      },
      "average drifted");
}

}  // namespace
}  // namespace lichen::sched
