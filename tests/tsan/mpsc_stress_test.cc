// MpscList on real threads: 2..8 producers push concurrently while one consumer takes batches.
// Checked afterwards: every item arrives exactly once, each producer's items arrive in push
// order, and the "was empty" results are exact: the first item of every non-empty batch is
// the one push that returned true for it, every other push returned false. (A push returns
// true iff its CAS replaced an empty head; the items between two TakeAll exchanges form one
// batch whose oldest item is that push.) A second test recycles a few nodes per producer
// through return lists, and a third runs the mailbox protocol: producers signal only when Push
// says the list was empty, and the consumer only takes after a signal; nothing may be stranded.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "lib/mpsc.h"
#include "lib/random.h"
#include "tests/tsan/stress.h"

namespace lichen {
namespace {

struct Item {
  MpscNode node;
  uint32_t producer = 0;
  uint32_t seq = 0;
};

using List = MpscList<Item, &Item::node>;

// Items per producer, so that each test pushes about the same total whatever the producer count.
constexpr uint32_t kTotalPushes = 48000;

class MpscStress : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MpscStress, ExactlyOnceInOrderWithExactEmptyReports) {
  const uint32_t producers = GetParam();
  const uint32_t per_producer = kTotalPushes / producers;
  std::vector<std::vector<Item>> items(producers, std::vector<Item>(per_producer));
  std::vector<std::vector<uint8_t>> was_empty(producers, std::vector<uint8_t>(per_producer));
  List list;
  test::StartingGate gate;

  // jthreads: an ASSERT that returns early still stops and joins the producers.
  std::vector<std::jthread> threads;
  for (uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Rng pace(p + 1);
      gate.Wait();
      for (uint32_t s = 0; s < per_producer; ++s) {
        Item& item = items[p][s];
        item.producer = p;
        item.seq = s;
        was_empty[p][s] = list.Push(item) ? 1 : 0;
        if (pace.Chance(1, 8)) std::this_thread::yield();  // let the consumer in between
      }
    });
  }

  // Consumer (this thread): record each batch as (producer, seq) pairs in arrival order.
  struct Received {
    uint32_t producer;
    uint32_t seq;
    uint32_t batch;
  };
  std::vector<Received> received;
  received.reserve(kTotalPushes);
  uint32_t batches = 0;
  gate.Open();
  const uint64_t total = static_cast<uint64_t>(per_producer) * producers;
  while (received.size() < total) {
    List::Batch batch = list.TakeAll();
    if (batch.Empty()) {
      std::this_thread::yield();
      continue;
    }
    for (Item& item : batch)
      received.push_back({item.producer, item.seq, batches});
    ++batches;
  }
  for (std::jthread& t : threads)
    t.join();
  EXPECT_TRUE(list.EmptyHint());

  // Exactly once and in each producer's order: seqs of producer p arrive as 0, 1, 2, ...
  std::vector<uint32_t> next(producers, 0);
  for (const Received& r : received) {
    ASSERT_LT(r.producer, producers);
    ASSERT_EQ(r.seq, next[r.producer]) << "producer " << r.producer;
    ++next[r.producer];
  }
  for (uint32_t p = 0; p < producers; ++p)
    EXPECT_EQ(next[p], per_producer);

  // "Was empty" is exact: true for the first item of each batch, false for the others.
  uint64_t trues = 0;
  for (size_t i = 0; i < received.size(); ++i) {
    const bool first_of_batch = i == 0 || received[i - 1].batch != received[i].batch;
    const bool reported = was_empty[received[i].producer][received[i].seq] != 0;
    ASSERT_EQ(reported, first_of_batch) << "item " << i << " of batch " << received[i].batch;
    trues += reported ? 1 : 0;
  }
  EXPECT_EQ(trues, batches);
  // The invariant above is only meaningful if the consumer really interleaved with the
  // producers; the pacing makes that happen even on two cores.
  EXPECT_GT(batches, 50u);
  RecordProperty("batches", static_cast<int>(batches));
}

// Each producer owns a few nodes and reuses them: the consumer pushes every item it takes back
// onto its producer's return list from inside the range-for body (the item was detached first),
// and the producer takes its returns to push them again. Nodes are therefore re-pushed while
// other nodes of the same chain are still being walked.
TEST_P(MpscStress, RecycledNodesKeepOrderAndCount) {
  const uint32_t producers = GetParam();
  const uint32_t per_producer = kTotalPushes / producers;
  constexpr uint32_t kNodesPerProducer = 8;
  std::vector<std::vector<Item>> nodes(producers, std::vector<Item>(kNodesPerProducer));
  std::vector<List> returns(producers);
  List list;
  test::StartingGate gate;

  // jthreads: an ASSERT that returns early still stops and joins the producers.
  std::vector<std::jthread> threads;
  for (uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p](std::stop_token stop) {
      List::Batch free_nodes;
      for (Item& node : nodes[p])
        returns[p].Push(node);  // all start out free
      gate.Wait();
      for (uint32_t s = 0; s < per_producer;) {
        Item* item = free_nodes.PopFront();
        if (item == nullptr) {
          if (stop.stop_requested()) break;
          free_nodes = returns[p].TakeAll();
          if (free_nodes.Empty()) std::this_thread::yield();
          continue;
        }
        item->producer = p;
        item->seq = s++;
        list.Push(*item);
      }
      // Leave the free nodes in this producer's return list, so no batch is dropped.
      while (Item* item = free_nodes.PopFront())
        returns[p].Push(*item);
    });
  }

  std::vector<uint32_t> next(producers, 0);
  uint64_t received = 0;
  const uint64_t total = static_cast<uint64_t>(per_producer) * producers;
  gate.Open();
  while (received < total) {
    List::Batch batch = list.TakeAll();
    if (batch.Empty()) std::this_thread::yield();
    for (Item& item : batch) {
      ASSERT_LT(item.producer, producers);
      ASSERT_EQ(item.seq, next[item.producer]) << "producer " << item.producer;
      ++next[item.producer];
      ++received;
      returns[item.producer].Push(item);
    }
  }
  for (std::jthread& t : threads)
    t.join();
  for (uint32_t p = 0; p < producers; ++p) {
    EXPECT_EQ(next[p], per_producer);
    List::Batch back = returns[p].TakeAll();
    EXPECT_EQ(back.Size(), kNodesPerProducer) << "producer " << p << " lost or gained nodes";
    while (back.PopFront() != nullptr) {
    }
  }
}

// The mailbox protocol. Producers ring a doorbell only when Push returns true (the IPI); the
// consumer sleeps until the doorbell has rung more often than it has seen, then takes all.
// If "was empty" were ever wrong in the dangerous direction, an item would be stranded with no
// ring coming and the consumer's wait would time out.
TEST_P(MpscStress, OneSignalPerBurstLosesNothing) {
  const uint32_t producers = GetParam();
  const uint32_t per_producer = kTotalPushes / producers / 2;
  std::vector<std::vector<Item>> items(producers, std::vector<Item>(per_producer));
  List list;
  std::mutex mutex;
  std::condition_variable rung;
  uint64_t rings = 0;  // guarded by mutex
  test::StartingGate gate;

  // jthreads: an ASSERT that returns early still stops and joins the producers.
  std::vector<std::jthread> threads;
  for (uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Rng pace(p + 1);
      gate.Wait();
      for (uint32_t s = 0; s < per_producer; ++s) {
        items[p][s].producer = p;
        items[p][s].seq = s;
        if (list.Push(items[p][s])) {
          std::lock_guard<std::mutex> lock(mutex);
          ++rings;
          rung.notify_one();
        }
        if (pace.Chance(1, 8)) std::this_thread::yield();  // let the consumer in between
      }
    });
  }

  const uint64_t total = static_cast<uint64_t>(per_producer) * producers;
  uint64_t received = 0;
  uint64_t seen_rings = 0;
  uint64_t empty_takes = 0;
  gate.Open();
  while (received < total) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      const bool signalled =
          rung.wait_for(lock, std::chrono::seconds(20), [&] { return rings > seen_rings; });
      ASSERT_TRUE(signalled) << "stranded: received " << received << " of " << total;
      seen_rings = rings;
    }
    List::Batch batch = list.TakeAll();
    if (batch.Empty()) ++empty_takes;  // possible: an earlier take already got this burst
    while (Item* item = batch.PopFront()) {
      (void)item;
      ++received;
    }
  }
  for (std::jthread& t : threads)
    t.join();
  EXPECT_EQ(received, total);
  EXPECT_TRUE(list.EmptyHint());
  RecordProperty("empty_takes", static_cast<int>(empty_takes));
}

INSTANTIATE_TEST_SUITE_P(Producers, MpscStress, ::testing::Values(2u, 4u, 8u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::to_string(info.param) + "Producers";
                         });

}  // namespace
}  // namespace lichen
