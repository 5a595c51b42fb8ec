// Property test of lib/mpsc.h on one thread against a std::deque model: random pushes, takes,
// partial batch consumption and re-pushes of consumed items, with every Push's "was empty"
// result, every batch's contents and order, and EmptyHint checked against the model.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "lib/mpsc.h"
#include "lib/random.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

struct Item {
  uint32_t id = 0;
  MpscNode node;
};

using List = MpscList<Item, &Item::node>;

enum class Where { kFree, kList, kBatch };

void RunSeed(uint64_t seed) {
  Rng rng(seed);
  constexpr uint32_t kPool = 48;
  std::vector<Item> pool(kPool);
  std::vector<Where> where(kPool, Where::kFree);
  for (uint32_t i = 0; i < kPool; ++i)
    pool[i].id = i;
  List list;
  List::Batch batch;
  // Leaves nothing queued however this function ends (an ASSERT returns early), so a failure
  // is reported as such and not as the batch's "dropped with items" debug check.
  struct Drain {
    List& list;
    List::Batch& batch;
    ~Drain() {
      while (batch.PopFront() != nullptr) {
      }
      List::Batch rest = list.TakeAll();
      while (rest.PopFront() != nullptr) {
      }
    }
  } drain{list, batch};
  std::deque<uint32_t> list_model;   // ids on the list, oldest first
  std::deque<uint32_t> batch_model;  // ids in the current batch, oldest first

  for (int step = 0; step < 3000 && !::testing::Test::HasFatalFailure(); ++step) {
    switch (rng.Below(6)) {
      case 0:
      case 1:
      case 2: {  // push a free item
        const uint32_t id = static_cast<uint32_t>(rng.Below(kPool));
        if (where[id] != Where::kFree) break;
        const bool was_empty = list.Push(pool[id]);
        ASSERT_EQ(was_empty, list_model.empty()) << "step " << step;
        list_model.push_back(id);
        where[id] = Where::kList;
        break;
      }
      case 3: {  // take everything, once the previous batch is used up
        if (!batch.Empty()) break;
        batch = list.TakeAll();
        ASSERT_EQ(batch.Size(), list_model.size());
        for (uint32_t id : list_model)
          where[id] = Where::kBatch;
        batch_model = std::move(list_model);
        list_model.clear();
        break;
      }
      default: {  // consume a few items; sometimes push one straight back
        const uint64_t n = rng.Below(4);
        for (uint64_t i = 0; i < n; ++i) {
          Item* item = batch.PopFront();
          ASSERT_EQ(item == nullptr, batch_model.empty());
          if (item == nullptr) break;
          ASSERT_EQ(item->id, batch_model.front()) << "step " << step;
          batch_model.pop_front();
          ASSERT_EQ(batch.Size(), batch_model.size());
          if (rng.Chance(1, 3)) {
            ASSERT_EQ(list.Push(*item), list_model.empty());
            list_model.push_back(item->id);
            where[item->id] = Where::kList;
          } else {
            where[item->id] = Where::kFree;
          }
        }
        break;
      }
    }
    ASSERT_EQ(list.EmptyHint(), list_model.empty());
    ASSERT_EQ(batch.Empty(), batch_model.empty());
    if (!batch_model.empty()) ASSERT_EQ(batch.Front()->id, batch_model.front());
  }
  for (uint32_t id : batch_model)
    ASSERT_EQ(batch.PopFront()->id, id);
  batch = list.TakeAll();
  ASSERT_EQ(batch.Size(), list_model.size());
  for (uint32_t id : list_model)
    ASSERT_EQ(batch.PopFront()->id, id);
}

TEST(MpscListProperty, MatchesDequeModel) {
  test::ForEachSeed("mpsc-vs-deque", 150, RunSeed);
}

}  // namespace
}  // namespace lichen
