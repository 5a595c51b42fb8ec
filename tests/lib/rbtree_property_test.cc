// Property test of lib/rbtree.h against std::set, used the way the EEVDF run queue uses it:
// keyed by (deadline, id), augmented with the minimum vruntime of each subtree (plus the
// subtree size, which makes the augmentation check stricter). After every operation the tree
// is validated (order, red-black rules, links, size, First()) and every node's augmentation is
// compared with a brute-force recomputation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "lib/random.h"
#include "lib/rbtree.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

struct Entity {
  RbNode node;
  uint64_t deadline = 0;
  uint32_t id = 0;
  int64_t vruntime = 0;
  int64_t min_vruntime = 0;   // augmented: min vruntime over the subtree
  uint32_t subtree_size = 0;  // augmented: nodes in the subtree
};

struct ByDeadline {
  static bool Less(const Entity& a, const Entity& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.id < b.id;
  }
  static void Augment(Entity& n, const Entity* left, const Entity* right) {
    n.min_vruntime = n.vruntime;
    n.subtree_size = 1;
    if (left != nullptr) {
      n.min_vruntime = std::min(n.min_vruntime, left->min_vruntime);
      n.subtree_size += left->subtree_size;
    }
    if (right != nullptr) {
      n.min_vruntime = std::min(n.min_vruntime, right->min_vruntime);
      n.subtree_size += right->subtree_size;
    }
  }
};

// The same order with an Augment that reports whether the node's value changed, so that the
// tree stops propagating at the first unchanged ancestor (the EEVDF run queue does this). It
// tracks the minimum only: a subtree size changes on every insert and would never stop early.
struct ByDeadlineEarlyExit {
  static bool Less(const Entity& a, const Entity& b) { return ByDeadline::Less(a, b); }
  static bool Augment(Entity& n, const Entity* left, const Entity* right) {
    int64_t m = n.vruntime;
    if (left != nullptr) m = std::min(m, left->min_vruntime);
    if (right != nullptr) m = std::min(m, right->min_vruntime);
    const bool changed = m != n.min_vruntime;
    n.min_vruntime = m;
    return changed;
  }
};

template <typename Traits>
constexpr bool kTracksSize = !std::is_same_v<Traits, ByDeadlineEarlyExit>;

using Key = std::pair<uint64_t, uint32_t>;  // (deadline, id), the reference's element

Key KeyOf(const Entity& e) {
  return {e.deadline, e.id};
}

// Brute force: the true min vruntime and size of every subtree, from the entities' own
// vruntimes only (never their augmented fields), stored by id. One post-order pass, O(n).
template <typename Tree>
std::pair<int64_t, uint32_t> BruteForceSubtree(const Tree& tree, const Entity& e,
                                               std::vector<std::pair<int64_t, uint32_t>>& out) {
  int64_t min = e.vruntime;
  uint32_t size = 1;
  for (const Entity* child : {tree.Left(e), tree.Right(e)}) {
    if (child == nullptr) continue;
    auto [child_min, child_size] = BruteForceSubtree(tree, *child, out);
    min = std::min(min, child_min);
    size += child_size;
  }
  out[e.id] = {min, size};
  return {min, size};
}

// The EEVDF pick walk: the earliest-deadline entity with vruntime <= avg ("eligible"), found
// in O(log n) through the augmented minimum.
template <typename Tree>
Entity* PickEligible(const Tree& tree, int64_t avg) {
  Entity* node = tree.Root();
  while (node != nullptr) {
    Entity* left = tree.Left(*node);
    if (left != nullptr && left->min_vruntime <= avg) {
      node = left;
      continue;
    }
    if (node->vruntime <= avg) return node;
    Entity* right = tree.Right(*node);
    node = (right != nullptr && right->min_vruntime <= avg) ? right : nullptr;
  }
  return nullptr;
}

template <typename Traits>
class Harness {
  using Tree = RbTree<Entity, &Entity::node, Traits>;

 public:
  explicit Harness(uint64_t seed) : rng_(seed), pool_(kPoolSize), truth_(kPoolSize) {
    for (uint32_t i = 0; i < kPoolSize; ++i)
      pool_[i].id = i;
    // Vary the regime per seed: tiny trees (edge cases), medium, large; narrow or wide keys
    // (narrow keys make the id tie-breaker decide often).
    static constexpr uint32_t kTargets[] = {2, 6, 24, 90, 300};
    target_size_ = kTargets[rng_.Below(std::size(kTargets))];
    deadline_range_ = rng_.Chance(1, 2) ? 8 : 1'000'000;
  }

  ~Harness() { tree_.Clear(); }

  void Run(int steps) {
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); ++step) {
      Step();
      Check(step);
    }
  }

 private:
  static constexpr uint32_t kPoolSize = 400;

  Entity& RandomEntity() { return pool_[rng_.Below(kPoolSize)]; }

  // A random entity currently in the tree (the tree must not be empty).
  Entity& RandomMember() {
    auto it = reference_.begin();
    std::advance(it, static_cast<long>(rng_.Below(reference_.size())));
    return pool_[it->second];
  }

  void Insert(Entity& e) {
    e.deadline = rng_.Below(deadline_range_);
    e.vruntime = static_cast<int64_t>(rng_.Below(2000)) - 1000;
    tree_.Insert(e);
    ASSERT_TRUE(reference_.insert(KeyOf(e)).second);
  }

  void Remove(Entity& e) {
    tree_.Remove(e);
    ASSERT_EQ(reference_.erase(KeyOf(e)), 1u);
    ASSERT_FALSE(Tree::IsInTree(e));
  }

  void Step() {
    // Half the steps change the membership: insert while below the seed's target size
    // (mostly), remove above it (mostly), so every seed spends most steps near its target.
    if (rng_.Chance(1, 2)) {
      const bool grow = rng_.Chance(reference_.size() < target_size_ ? 3 : 1, 4);
      if (grow || reference_.empty()) {
        for (int tries = 0; tries < 8; ++tries) {
          Entity& e = RandomEntity();
          if (Tree::IsInTree(e)) continue;
          Insert(e);
          break;
        }
      } else if (rng_.Chance(1, 4)) {
        Remove(*tree_.First());  // what the scheduler does when it picks the leftmost
      } else {
        Remove(RandomMember());
      }
      return;
    }
    switch (rng_.Below(6)) {
      case 0: {  // vruntime changed in place (key unchanged): publish via UpdateAugmentedPath
        if (reference_.empty()) return;
        Entity& e = RandomMember();
        e.vruntime = static_cast<int64_t>(rng_.Below(2000)) - 1000;
        tree_.UpdateAugmentedPath(e);
        return;
      }
      case 1: {  // key change: remove and re-insert (a renewed deadline)
        if (reference_.empty()) return;
        Entity& e = RandomMember();
        Remove(e);
        Insert(e);
        return;
      }
      case 2: {  // walk from a random member with Next/Prev against the reference
        if (reference_.empty()) return;
        Entity& e = RandomMember();
        auto it = reference_.find(KeyOf(e));
        Entity* next = tree_.Next(e);
        auto ref_next = std::next(it);
        ASSERT_EQ(next == nullptr, ref_next == reference_.end());
        if (next != nullptr) ASSERT_EQ(KeyOf(*next), *ref_next);
        Entity* prev = tree_.Prev(e);
        ASSERT_EQ(prev == nullptr, it == reference_.begin());
        if (prev != nullptr) ASSERT_EQ(KeyOf(*prev), *std::prev(it));
        return;
      }
      case 3: {  // the augmented pick walk against a brute-force scan in key order
        const int64_t avg = static_cast<int64_t>(rng_.Below(2200)) - 1100;
        const Entity* expected = nullptr;
        for (const Key& key : reference_) {
          if (pool_[key.second].vruntime <= avg) {
            expected = &pool_[key.second];
            break;
          }
        }
        ASSERT_EQ(PickEligible(tree_, avg), expected) << "avg " << avg;
        return;
      }
      case 4:  // full in-order comparison
        CompareInOrder();
        return;
      default:  // rarely: clear everything
        if (rng_.Chance(1, 200)) {
          tree_.Clear();
          for (const Key& key : reference_)
            ASSERT_FALSE(Tree::IsInTree(pool_[key.second]));
          reference_.clear();
        }
        return;
    }
  }

  void CompareInOrder() {
    auto it = reference_.begin();
    for (Entity& e : tree_) {
      ASSERT_NE(it, reference_.end());
      ASSERT_EQ(KeyOf(e), *it);
      ++it;
    }
    ASSERT_EQ(it, reference_.end());
  }

  void Check(int step) {
    if (::testing::Test::HasFatalFailure()) return;
    if (tree_.Root() != nullptr) BruteForceSubtree(tree_, *tree_.Root(), truth_);
    const char* error = tree_.Validate([&](const Entity& n, const Entity*, const Entity*) {
      return n.min_vruntime == truth_[n.id].first &&
             (!kTracksSize<Traits> || n.subtree_size == truth_[n.id].second);
    });
    ASSERT_STREQ(error, nullptr) << "after step " << step;
    ASSERT_EQ(tree_.Size(), reference_.size());
    ASSERT_EQ(tree_.Empty(), reference_.empty());
    if (reference_.empty()) {
      ASSERT_EQ(tree_.First(), nullptr);
      ASSERT_EQ(tree_.Last(), nullptr);
      ASSERT_EQ(tree_.Root(), nullptr);
    } else {
      ASSERT_EQ(KeyOf(*tree_.First()), *reference_.begin());
      ASSERT_EQ(KeyOf(*tree_.Last()), *reference_.rbegin());
      if (kTracksSize<Traits>) ASSERT_EQ(tree_.Root()->subtree_size, reference_.size());
    }
  }

  Rng rng_;
  std::vector<Entity> pool_;
  Tree tree_;
  std::set<Key> reference_;                          // (deadline, id) of every entity in the tree
  std::vector<std::pair<int64_t, uint32_t>> truth_;  // brute-force (min, size) by id
  uint32_t target_size_ = 0;
  uint64_t deadline_range_ = 0;
};

TEST(RbTreeProperty, MatchesStdSetWithAugmentation) {
  test::ForEachSeed("rbtree-vs-std-set", 100,
                    [](uint64_t seed) { Harness<ByDeadline>(seed).Run(2500); });
}

TEST(RbTreeProperty, MatchesStdSetWithEarlyExitAugmentation) {
  test::ForEachSeed("rbtree-early-exit-vs-std-set", 100,
                    [](uint64_t seed) { Harness<ByDeadlineEarlyExit>(seed).Run(2500); });
}

}  // namespace
}  // namespace lichen
