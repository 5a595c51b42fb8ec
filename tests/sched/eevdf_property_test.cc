// Property test of the EEVDF run queue against the brute-force model (eevdf_model.h).
//
// Each seed builds two run queues (two CPUs, so that migration is real) with virtual clocks
// started at random points, some near the u64 wrap, and a pool of entities with random nice
// levels and slices. It then applies a few hundred random operations -- enqueue (new, wakeup,
// migrated), dequeue (sleep, migrate, plain; current or not), pick + SetCurrent, SetCurrent of
// an arbitrary entity or idle, running the current entity for a random time (often exactly up
// to its deadline), wakeup preemption, reweight, slice changes, yield -- to the kernel queues and
// the model alike, and after EVERY step compares everything observable: each entity's vruntime,
// deadline, vlag, vprot, weight, slice, runtime and flags; V, v0, NrQueued, Load, Current, the
// pick, eligibility, lag, NsUntilDeadline and the waiting order; and runs CheckInvariants().
//
// Replay one seed: LICHEN_SEED=<n> ./sched_eevdf_property_tests
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "kernel/sched/eevdf.h"
#include "lib/random.h"
#include "tests/sched/eevdf_model.h"
#include "tests/support/property.h"

namespace lichen::sched {
namespace {

constexpr int kQueues = 2;

struct World {
  explicit World(Rng& rng) {
    for (int q = 0; q < kQueues; ++q) {
      const uint32_t ncpus = static_cast<uint32_t>(rng.Range(1, 12));
      uint64_t start;
      switch (rng.Below(4)) {
        case 0:
          start = kInitialVruntime;
          break;
        case 1:
          start = ~uint64_t{0} - rng.Below(50'000'000);  // Wraps within 50 ms of virtual time.
          break;
        case 2:
          start = (uint64_t{1} << 63) - rng.Below(50'000'000);  // Crosses the sign boundary.
          break;
        default:
          start = rng.Next();
          break;
      }
      queues.push_back(std::make_unique<RunQueue>(ncpus, start));
      models.emplace_back(&pool, q, BaseSliceNs(ncpus), start);
    }
    const size_t n = rng.Range(1, 20);
    entities = std::make_unique<SchedEntity[]>(n);
    count = n;
    pool.resize(n);
    // A third of the seeds use identical entities (nice 0, default slice): equal deadlines
    // are then common, which exercises the (deadline, id) tie-breaks.
    const bool uniform = rng.Chance(1, 3);
    for (size_t i = 0; i < n; ++i) {
      SchedEntity& se = entities[i];
      model::Entity& me = pool[i];
      se.id = me.id = rng.Below(3) == 0 ? i + 1 : rng.Next();  // Random ids: random tie-breaks.
      for (size_t j = 0; j < i; ++j) {
        if (pool[j].id == se.id) se.id = me.id = se.id + 1000 + i;  // Keep ids unique.
      }
      if (!uniform && rng.Chance(1, 2)) {
        const int nice = static_cast<int>(rng.Range(0, 44)) - 22;  // Includes out-of-range.
        se.SetNice(nice);
        me.nice = std::clamp(nice, -20, 19);
        me.weight = model::WeightOf(nice);
      }
      if (!uniform && rng.Chance(1, 3)) SetSlice(i, RandomSlice(rng));
      me.slice_ns = se.slice_ns;
    }
  }

  ~World() {
    // Empty the queues so that their destructors find nothing linked.
    for (int q = 0; q < kQueues; ++q)
      queues[q]->SetCurrent(nullptr, now);
    for (size_t i = 0; i < count; ++i) {
      if (entities[i].on_rq) queues[pool[i].queue]->Dequeue(entities[i], kDequeueSleep, now);
    }
  }

  static uint64_t RandomSlice(Rng& rng) {
    switch (rng.Below(4)) {
      case 0:
        return 0;  // Back to the default.
      case 1:
        return rng.Range(1, 200'000);  // Around and below kMinSliceNs.
      case 2:
        return rng.Range(90'000'000, 150'000'000);  // Around and above kMaxSliceNs.
      default:
        return rng.Range(kMinSliceNs, 20'000'000);
    }
  }

  void SetSlice(size_t i, uint64_t slice) {
    // A queued entity's slice changes through its queue (which keeps the tree's minimum
    // slice right); any other through the entity itself.
    const int q = pool[i].queue;
    if (entities[i].on_rq && q >= 0) {
      queues[q]->SetSlice(entities[i], slice);
    } else {
      entities[i].SetSliceNs(slice);
    }
    model::Entity& me = pool[i];
    if (slice == 0) {
      me.custom_slice = false;
    } else {
      me.slice_ns = std::clamp<uint64_t>(slice, kMinSliceNs, kMaxSliceNs);
      me.custom_slice = true;
    }
  }

  int IndexOf(const SchedEntity* se) const {
    return se == nullptr ? -1 : static_cast<int>(se - entities.get());
  }

  // Compares every observable quantity of kernel and model.
  void Compare(const char* step) {
    SCOPED_TRACE(step);
    for (size_t i = 0; i < count; ++i) {
      const SchedEntity& se = entities[i];
      const model::Entity& me = pool[i];
      SCOPED_TRACE(::testing::Message() << "entity " << i << " id " << se.id);
      ASSERT_EQ(se.on_rq, me.on_rq);
      ASSERT_EQ(se.vruntime, me.vruntime);
      ASSERT_EQ(se.deadline, me.deadline);
      ASSERT_EQ(se.vlag, me.vlag);
      ASSERT_EQ(se.rel_deadline, me.rel_deadline);
      ASSERT_EQ(se.new_task, me.new_task);
      ASSERT_EQ(se.weight, me.weight);
      ASSERT_EQ(se.nice, me.nice);
      ASSERT_EQ(se.slice_ns, me.slice_ns);
      ASSERT_EQ(se.custom_slice, me.custom_slice);
      ASSERT_EQ(se.sum_exec_ns, me.sum_exec_ns);
      if (se.on_rq) {
        const RunQueue& rq = *queues[me.queue];
        const model::Queue& mq = models[me.queue];
        ASSERT_EQ(rq.Eligible(se), mq.Eligible(static_cast<int>(i)));
        ASSERT_EQ(rq.Lag(se), model::Diff(mq.Avg(), me.vruntime) * me.weight);
        ASSERT_EQ(se.wait_start_ns, me.wait_start_ns);
        if (rq.Current() == &se) {
          ASSERT_EQ(se.vprot, me.vprot);
          ASSERT_EQ(se.exec_start_ns, me.exec_start_ns);
        }
      }
    }
    for (int q = 0; q < kQueues; ++q) {
      SCOPED_TRACE(::testing::Message() << "queue " << q);
      RunQueue& rq = *queues[q];
      model::Queue& mq = models[q];
      rq.CheckInvariants();
      ASSERT_EQ(rq.NrQueued(), mq.NrQueued());
      ASSERT_EQ(rq.Load(), mq.Load());
      ASSERT_EQ(rq.AvgVruntime(), mq.Avg());
      ASSERT_EQ(rq.BaseVruntime(), mq.v0());
      ASSERT_EQ(IndexOf(rq.Current()), mq.current());
      ASSERT_EQ(rq.NsUntilDeadline(now), mq.NsUntilDeadline(now));
      std::vector<int> order;
      for (SchedEntity* se = rq.OldestWaiting(); se != nullptr; se = rq.NextWaiting(*se)) {
        order.push_back(IndexOf(se));
      }
      ASSERT_EQ(order, mq.waiting());
      // The pick at `now` (everything is already charged up to now: PickNext changes nothing).
      ASSERT_EQ(IndexOf(rq.PickNext(now)), mq.PickNext(now));
    }
  }

  std::vector<model::Entity> pool;
  std::vector<model::Queue> models;
  std::vector<std::unique_ptr<RunQueue>> queues;
  std::unique_ptr<SchedEntity[]> entities;
  size_t count = 0;
  uint64_t now = 1'000'000'000;
};

// One random operation on kernel and model; returns its name for failure messages.
const char* Step(World& w, Rng& rng) {
  w.now += rng.Chance(1, 4) ? 0 : rng.Below(200'000);
  const uint64_t now = w.now;
  const int q = static_cast<int>(rng.Below(kQueues));
  RunQueue& rq = *w.queues[q];
  model::Queue& mq = w.models[q];
  const int n = static_cast<int>(w.count);
  const int i = static_cast<int>(rng.Below(w.count));
  SchedEntity& se = w.entities[i];

  switch (rng.Below(11)) {
    case 0:
    case 1: {  // Enqueue (and maybe ask about wakeup preemption).
      if (se.on_rq) return "enqueue skipped";
      EnqueueFlags flags = kEnqueueWakeup;
      switch (rng.Below(4)) {
        case 0:
          flags = kEnqueueNew;
          break;
        case 1:
          flags = kEnqueueMigrated;
          break;
        case 2:
          flags = kEnqueueWakeup | kEnqueueMigrated;
          break;
        default:
          break;
      }
      rq.Enqueue(se, flags, now);
      mq.Enqueue(i, (flags & kEnqueueNew) != 0, now);
      if (rng.Chance(1, 2)) {
        const bool preempt = rq.ShouldPreempt(se, now);
        EXPECT_EQ(preempt, mq.ShouldPreempt(i, now));
        if (preempt && rng.Chance(3, 4)) {
          rq.SetCurrent(rq.PickNext(now), now);
          mq.SetCurrent(mq.PickNext(now), now);
        }
        return "enqueue + ShouldPreempt";
      }
      return "enqueue";
    }
    case 2: {  // Dequeue, current or not.
      SchedEntity* victim = &se;
      if (rng.Chance(1, 3) && rq.Current() != nullptr) victim = rq.Current();
      if (!victim->on_rq) return "dequeue skipped";
      const int v = w.IndexOf(victim);
      const int vq = w.pool[v].queue;
      DequeueFlags flags =
          rng.Chance(1, 3) ? kDequeueMigrate : (rng.Chance(1, 2) ? kDequeueSleep : kDequeueNone);
      w.queues[vq]->Dequeue(*victim, flags, now);
      w.models[vq].Dequeue(v, flags == kDequeueMigrate, now);
      return "dequeue";
    }
    case 3:
    case 4: {  // The scheduler's switch: pick, then make it current.
      SchedEntity* next = rq.PickNext(now);
      const int mnext = mq.PickNext(now);
      EXPECT_EQ(w.IndexOf(next), mnext);
      rq.SetCurrent(next, now);
      mq.SetCurrent(mnext, now);
      return "pick + SetCurrent";
    }
    case 5: {  // SetCurrent of an arbitrary queued entity, or idle.
      if (rng.Chance(1, 4)) {
        rq.SetCurrent(nullptr, now);
        mq.SetCurrent(-1, now);
        return "SetCurrent(idle)";
      }
      for (int k = 0; k < n; ++k) {
        const int j = (i + k) % n;
        if (w.pool[j].queue == q) {
          rq.SetCurrent(&w.entities[j], now);
          mq.SetCurrent(j, now);
          return "SetCurrent(any)";
        }
      }
      return "SetCurrent skipped";
    }
    case 6:
    case 7: {  // Run the current entity, often exactly to its slice timer.
      uint64_t run;
      const uint64_t until = rq.NsUntilDeadline(now);
      const uint64_t decision = rq.NsUntilDecision(now);
      switch (rng.Below(5)) {
        case 0:
          run = until == kNoDeadline ? 1000 : until;
          break;
        case 4:
          run = decision == kNoDeadline ? 1000 : decision;
          break;
        case 1:
          run = rng.Below(50'000);
          break;
        case 2:
          run = rng.Below(20'000'000);
          break;
        default:
          run = rng.Chance(1, 20) ? rng.Below(2'000'000'000) : rng.Below(3'000'000);
          break;
      }
      w.now += run;
      const bool renewed = rq.UpdateCurrent(w.now);
      EXPECT_EQ(renewed, mq.UpdateCurrent(w.now));
      // Running exactly as long as NsUntilDeadline said must renew the deadline.
      if (until != kNoDeadline && run == until) EXPECT_TRUE(renewed);
      // Running exactly to NsUntilDecision must make a decision due: the deadline renewed, or
      // another entity picked. (Never a timer that fires and finds nothing to do: with a
      // heavy entity charged every few ns that used to loop forever.)
      if (decision != kNoDeadline && run == decision && rq.Current() != nullptr) {
        SchedEntity* current = rq.Current();
        SchedEntity* pick = rq.PickNext(w.now);
        mq.PickNext(w.now);
        EXPECT_TRUE(renewed || pick != current) << "decision point " << decision << " ns";
      }
      return "run";
    }
    case 8: {  // Reweight, queued or not.
      const int nice = static_cast<int>(rng.Range(0, 44)) - 22;
      const int mi = i;
      const int eq = w.pool[mi].queue;
      RunQueue& erq = *w.queues[eq < 0 ? q : eq];
      erq.Reweight(se, nice, now);
      w.models[eq < 0 ? q : eq].Reweight(mi, nice, now);
      return "reweight";
    }
    case 9: {  // Slice request change, queued or not; or the current entity yields.
      if (rng.Chance(1, 3)) {
        rq.YieldCurrent(now);
        mq.Yield(now);
        return "yield";
      }
      w.SetSlice(static_cast<size_t>(i), World::RandomSlice(rng));
      return "slice";
    }
    default: {  // Wakeup preemption query for a queued, non-current entity.
      if (!se.on_rq || w.pool[i].queue != q || rq.Current() == &se) return "preempt skipped";
      EXPECT_EQ(rq.ShouldPreempt(se, now), mq.ShouldPreempt(i, now));
      return "ShouldPreempt";
    }
  }
}

TEST(EevdfProperty, MatchesBruteForceModel) {
  test::ForEachSeed("eevdf-vs-model", 200, [](uint64_t seed) {
    Rng rng(seed);
    World world(rng);
    world.Compare("initial");
    const int steps = static_cast<int>(rng.Range(50, 400));
    for (int s = 0; s < steps && !::testing::Test::HasFailure(); ++s) {
      const char* what = Step(world, rng);
      SCOPED_TRACE(::testing::Message() << "step " << s);
      world.Compare(what);
    }
  });
}

}  // namespace
}  // namespace lichen::sched
