// Unit tests of lib/mpsc.h, including a push preempted at each of its atomic operations by
// another push and a TakeAll.
#include "lib/mpsc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/lib/interleave.h"

namespace lichen {
namespace {

struct Item {
  int value = 0;
  MpscNode node;
};

using List = MpscList<Item, &Item::node>;

std::vector<int> Drain(List::Batch& batch) {
  std::vector<int> values;
  while (Item* item = batch.PopFront())
    values.push_back(item->value);
  return values;
}

// The constructor is constexpr: a global mailbox is constant-initialised.
constinit List g_static_list;

TEST(MpscList, ConstantInitialisedListWorks) {
  Item a;
  EXPECT_TRUE(g_static_list.EmptyHint());
  EXPECT_TRUE(g_static_list.Push(a));
  List::Batch batch = g_static_list.TakeAll();
  EXPECT_EQ(batch.PopFront(), &a);
}

TEST(MpscList, EmptyList) {
  List list;
  EXPECT_TRUE(list.EmptyHint());
  List::Batch batch = list.TakeAll();
  EXPECT_TRUE(batch.Empty());
  EXPECT_EQ(batch.Size(), 0u);
  EXPECT_EQ(batch.Front(), nullptr);
  EXPECT_EQ(batch.PopFront(), nullptr);
}

TEST(MpscList, PushReportsTheStartOfABurst) {
  Item items[3];
  List list;
  EXPECT_TRUE(list.Push(items[0]));
  EXPECT_FALSE(list.EmptyHint());
  EXPECT_FALSE(list.Push(items[1]));
  EXPECT_FALSE(list.Push(items[2]));
  List::Batch batch = list.TakeAll();
  EXPECT_EQ(batch.Size(), 3u);
  EXPECT_TRUE(list.EmptyHint());
  while (batch.PopFront() != nullptr) {
  }
  EXPECT_TRUE(list.Push(items[0]));  // a new burst
  batch = list.TakeAll();
  EXPECT_EQ(batch.Size(), 1u);
  batch.PopFront();
}

TEST(MpscList, TakeAllReturnsPushOrder) {
  Item items[5];
  List list;
  for (int i = 0; i < 5; ++i) {
    items[i].value = i;
    list.Push(items[i]);
  }
  List::Batch batch = list.TakeAll();
  EXPECT_EQ(batch.Front(), &items[0]);
  EXPECT_EQ(Drain(batch), (std::vector<int>{0, 1, 2, 3, 4}));
  for (const Item& item : items)
    EXPECT_EQ(item.node.next, nullptr);  // popped nodes are clean
}

TEST(MpscList, PushesAfterTakeGoToTheNextBatch) {
  Item items[4];
  List list;
  for (int i = 0; i < 4; ++i)
    items[i].value = i;
  list.Push(items[0]);
  list.Push(items[1]);
  List::Batch first = list.TakeAll();
  EXPECT_TRUE(list.Push(items[2]));
  list.Push(items[3]);
  List::Batch second = list.TakeAll();
  EXPECT_EQ(Drain(first), (std::vector<int>{0, 1}));
  EXPECT_EQ(Drain(second), (std::vector<int>{2, 3}));
}

// Range-for detaches each item before the body, so the body may push it again at once, even
// onto the list the batch came from.
TEST(MpscList, RangeForLetsTheBodyRepushItems) {
  Item items[4];
  List list;
  for (int i = 0; i < 4; ++i) {
    items[i].value = i;
    list.Push(items[i]);
  }
  List::Batch batch = list.TakeAll();
  std::vector<int> seen;
  for (Item& item : batch) {
    seen.push_back(item.value);
    list.Push(item);
  }
  EXPECT_TRUE(batch.Empty());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
  List::Batch again = list.TakeAll();
  EXPECT_EQ(Drain(again), (std::vector<int>{0, 1, 2, 3}));
}

TEST(MpscList, BreakingOutOfRangeForKeepsTheRest) {
  Item items[4];
  List list;
  for (int i = 0; i < 4; ++i) {
    items[i].value = i;
    list.Push(items[i]);
  }
  List::Batch batch = list.TakeAll();
  for (Item& item : batch) {
    if (item.value == 1) break;
  }
  EXPECT_EQ(batch.Size(), 2u);
  EXPECT_EQ(Drain(batch), (std::vector<int>{2, 3}));
}

TEST(MpscList, BatchMoves) {
  Item items[2];
  List list;
  list.Push(items[0]);
  list.Push(items[1]);
  List::Batch a = list.TakeAll();
  List::Batch b = std::move(a);
  EXPECT_TRUE(a.Empty());
  EXPECT_EQ(b.Size(), 2u);
  List::Batch c;
  c = std::move(b);
  EXPECT_TRUE(b.Empty());
  EXPECT_EQ(c.Size(), 2u);
  EXPECT_EQ(c.PopFront(), &items[0]);
  EXPECT_EQ(c.PopFront(), &items[1]);
}

// Push A is preempted before each of its atomic operations in turn by a push of B and a
// TakeAll (an interrupt, or another CPU). Whatever the point, A and B each arrive exactly once,
// and the number of pushes that reported "was empty" equals the number of non-empty batches.
TEST(MpscList, PushPreemptedAtEveryAtomicOperation) {
  for (int k = 1;; ++k) {
    Item a{1, {}};
    Item b{2, {}};
    List list;
    std::vector<int> received;
    int empty_reports = 0;
    int nonempty_batches = 0;
    auto take = [&] {
      List::Batch batch = list.TakeAll();
      if (!batch.Empty()) ++nonempty_batches;
      while (Item* item = batch.PopFront())
        received.push_back(item->value);
    };
    bool fired;
    {
      test::InterleaveAt at(k, [&] {
        if (list.Push(b)) ++empty_reports;
        take();
      });
      if (list.Push(a)) ++empty_reports;
      fired = at.fired();
    }
    take();
    if (!fired) {
      // Past Push's last atomic operation: it did at least a load and a CAS.
      EXPECT_GT(k, 2);
      EXPECT_EQ(received, (std::vector<int>{1}));
      break;
    }
    std::sort(received.begin(), received.end());
    EXPECT_EQ(received, (std::vector<int>{1, 2})) << "preempted before atomic op " << k;
    EXPECT_EQ(empty_reports, nonempty_batches) << "preempted before atomic op " << k;
  }
}

using MpscListDeathTest = ::testing::Test;

#if defined(LICHEN_DEBUG_CHECKS)
TEST(MpscListDeathTest, DroppingANonEmptyBatchAssertsInDebugBuilds) {
  Item item;
  List list;
  list.Push(item);
  EXPECT_DEATH({ List::Batch batch = list.TakeAll(); }, "batch dropped with 1 items");
  List::Batch batch = list.TakeAll();
  batch.PopFront();
}
#endif

}  // namespace
}  // namespace lichen
