// Property test of lib/list.h against std::list: random pushes, inserts, removals and pops,
// with the whole list (both directions), Size() and every node's linked() state compared with
// the reference after each operation.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <list>
#include <vector>

#include "lib/list.h"
#include "lib/random.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

struct Item {
  uint32_t id = 0;
  ListNode node;
};

using List = IntrusiveList<Item, &Item::node>;

class Harness {
 public:
  explicit Harness(uint64_t seed) : rng_(seed), pool_(kPoolSize) {
    for (uint32_t i = 0; i < kPoolSize; ++i)
      pool_[i].id = i;
  }
  ~Harness() { list_.Clear(); }

  void Run(int steps) {
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); ++step) {
      Step();
      if (!::testing::Test::HasFatalFailure()) Check(step);
    }
  }

 private:
  static constexpr uint32_t kPoolSize = 64;

  // A random id on the list (the list must not be empty), as a reference iterator.
  std::list<uint32_t>::iterator RandomMember() {
    auto it = reference_.begin();
    std::advance(it, static_cast<long>(rng_.Below(reference_.size())));
    return it;
  }

  void Step() {
    Item& candidate = pool_[rng_.Below(kPoolSize)];
    const bool free = !List::IsLinked(candidate);
    switch (rng_.Below(9)) {
      case 0:
        if (free) {
          list_.PushBack(candidate);
          reference_.push_back(candidate.id);
        }
        return;
      case 1:
        if (free) {
          list_.PushFront(candidate);
          reference_.push_front(candidate.id);
        }
        return;
      case 2:
      case 3:
        if (free && !reference_.empty()) {
          auto pos = RandomMember();
          list_.InsertAfter(pool_[*pos], candidate);
          reference_.insert(std::next(pos), candidate.id);
        }
        return;
      case 4:
        if (free && !reference_.empty()) {
          auto pos = RandomMember();
          list_.InsertBefore(pool_[*pos], candidate);
          reference_.insert(pos, candidate.id);
        }
        return;
      case 5:
      case 6:
        if (!reference_.empty()) {
          auto pos = RandomMember();
          list_.Remove(pool_[*pos]);
          reference_.erase(pos);
        }
        return;
      case 7: {
        Item* item = list_.PopFront();
        ASSERT_EQ(item == nullptr, reference_.empty());
        if (item != nullptr) {
          ASSERT_EQ(item->id, reference_.front());
          reference_.pop_front();
        }
        return;
      }
      default: {
        Item* item = list_.PopBack();
        ASSERT_EQ(item == nullptr, reference_.empty());
        if (item != nullptr) {
          ASSERT_EQ(item->id, reference_.back());
          reference_.pop_back();
        }
        return;
      }
    }
  }

  void Check(int step) {
    ASSERT_EQ(list_.Size(), reference_.size()) << "after step " << step;
    ASSERT_EQ(list_.Empty(), reference_.empty());
    auto ref = reference_.begin();
    for (Item& item : list_) {
      ASSERT_NE(ref, reference_.end()) << "after step " << step;
      ASSERT_EQ(item.id, *ref) << "after step " << step;
      ++ref;
    }
    ASSERT_EQ(ref, reference_.end());
    auto back = reference_.rbegin();
    for (Item* item = list_.Back(); item != nullptr; item = list_.Prev(*item)) {
      ASSERT_NE(back, reference_.rend());
      ASSERT_EQ(item->id, *back);
      ++back;
    }
    ASSERT_EQ(back, reference_.rend());
    size_t linked = 0;
    for (const Item& item : pool_)
      linked += List::IsLinked(item) ? 1 : 0;
    ASSERT_EQ(linked, reference_.size());  // with the walks above: exactly the listed ones
  }

  Rng rng_;
  std::vector<Item> pool_;
  List list_;
  std::list<uint32_t> reference_;
};

TEST(IntrusiveListProperty, MatchesStdList) {
  test::ForEachSeed("list-vs-std-list", 100, [](uint64_t seed) { Harness(seed).Run(3000); });
}

}  // namespace
}  // namespace lichen
