// Unit tests of lib/rbtree.h: shapes, navigation, augmentation, validation, misuse.
#include "lib/rbtree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lichen {
namespace {

// Keyed by (key, id); augmented with the minimum `weight` of each subtree and the subtree size.
struct Item {
  RbNode node;
  uint64_t key = 0;
  uint32_t id = 0;
  int64_t weight = 0;
  int64_t min_weight = 0;
  uint32_t subtree_size = 0;
  uint32_t augment_calls = 0;
};

struct ItemTraits {
  static bool Less(const Item& a, const Item& b) {
    return a.key != b.key ? a.key < b.key : a.id < b.id;
  }
  static void Augment(Item& n, const Item* left, const Item* right) {
    n.min_weight = n.weight;
    n.subtree_size = 1;
    for (const Item* child : {left, right}) {
      if (child == nullptr) continue;
      n.min_weight = std::min(n.min_weight, child->min_weight);
      n.subtree_size += child->subtree_size;
    }
    ++n.augment_calls;
  }
};

using Tree = RbTree<Item, &Item::node, ItemTraits>;

// The augmentation invariant, as Validate's check.
bool AugmentOk(const Item& n, const Item* left, const Item* right) {
  int64_t min = n.weight;
  uint32_t size = 1;
  for (const Item* child : {left, right}) {
    if (child == nullptr) continue;
    min = std::min(min, child->min_weight);
    size += child->subtree_size;
  }
  return n.min_weight == min && n.subtree_size == size;
}

struct PlainItem {
  int key = 0;
  RbNode node;
};
struct PlainTraits : NoAugment {
  static bool Less(const PlainItem& a, const PlainItem& b) { return a.key < b.key; }
};
using PlainTree = RbTree<PlainItem, &PlainItem::node, PlainTraits>;

std::vector<uint32_t> InOrderIds(const Tree& tree) {
  std::vector<uint32_t> ids;
  for (Item& item : tree)
    ids.push_back(item.id);
  return ids;
}

std::vector<Item> MakeItems(size_t n) {
  std::vector<Item> items(n);
  for (size_t i = 0; i < n; ++i) {
    items[i].id = static_cast<uint32_t>(i);
    items[i].key = i;
    items[i].weight = static_cast<int64_t>((i * 7919) % 101);
  }
  return items;
}

// The constructor is constexpr: a global tree is constant-initialised.
constinit Tree g_static_tree;

TEST(RbTree, ConstantInitialisedTreeWorks) {
  std::vector<Item> items = MakeItems(5);
  for (Item& item : items)
    g_static_tree.Insert(item);
  EXPECT_EQ(g_static_tree.First(), &items[0]);
  EXPECT_STREQ(g_static_tree.Validate(AugmentOk), nullptr);
  g_static_tree.Clear();
}

TEST(RbTree, EmptyTree) {
  Tree tree;
  EXPECT_TRUE(tree.Empty());
  EXPECT_EQ(tree.Size(), 0u);
  EXPECT_EQ(tree.Root(), nullptr);
  EXPECT_EQ(tree.First(), nullptr);
  EXPECT_EQ(tree.Last(), nullptr);
  EXPECT_EQ(tree.begin(), tree.end());
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
}

TEST(RbTree, SingleNode) {
  Tree tree;
  Item a;
  a.weight = 5;
  EXPECT_FALSE(Tree::IsInTree(a));
  tree.Insert(a);
  EXPECT_TRUE(Tree::IsInTree(a));
  EXPECT_EQ(tree.Root(), &a);
  EXPECT_EQ(tree.First(), &a);
  EXPECT_EQ(tree.Last(), &a);
  EXPECT_EQ(tree.Parent(a), nullptr);
  EXPECT_EQ(tree.Left(a), nullptr);
  EXPECT_EQ(tree.Right(a), nullptr);
  EXPECT_EQ(tree.Next(a), nullptr);
  EXPECT_EQ(tree.Prev(a), nullptr);
  EXPECT_FALSE(a.node.red);
  EXPECT_EQ(a.min_weight, 5);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Remove(a);
  EXPECT_FALSE(Tree::IsInTree(a));
  EXPECT_TRUE(tree.Empty());
  EXPECT_EQ(tree.First(), nullptr);
  EXPECT_EQ(a.node.parent, nullptr);
  EXPECT_EQ(a.node.left, nullptr);
  EXPECT_EQ(a.node.right, nullptr);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
}

// Ascending, descending and interleaved insertion orders exercise every insert-fixup case.
TEST(RbTree, InsertOrdersKeepInvariants) {
  for (int order = 0; order < 3; ++order) {
    std::vector<Item> items = MakeItems(257);
    Tree tree;
    for (size_t i = 0; i < items.size(); ++i) {
      size_t index = i;
      if (order == 1) index = items.size() - 1 - i;
      if (order == 2) index = (i % 2 == 0) ? i / 2 : items.size() - 1 - i / 2;
      tree.Insert(items[index]);
      ASSERT_STREQ(tree.Validate(AugmentOk), nullptr) << "order " << order << " step " << i;
    }
    EXPECT_EQ(tree.Size(), items.size());
    EXPECT_EQ(tree.First(), &items.front());
    EXPECT_EQ(tree.Last(), &items.back());
    std::vector<uint32_t> expected(items.size());
    for (size_t i = 0; i < items.size(); ++i)
      expected[i] = static_cast<uint32_t>(i);
    EXPECT_EQ(InOrderIds(tree), expected);
    EXPECT_EQ(tree.Root()->subtree_size, items.size());
    EXPECT_EQ(tree.Root()->min_weight, 0);
    tree.Clear();
  }
}

TEST(RbTree, TieBreakOrdersEqualKeysById) {
  std::vector<Item> items(10);
  Tree tree;
  for (uint32_t i = 0; i < items.size(); ++i) {
    items[i].key = 42;
    items[i].id = 9 - i;
    tree.Insert(items[i]);
  }
  EXPECT_EQ(InOrderIds(tree), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Clear();
}

TEST(RbTree, NextAndPrevWalkEveryNode) {
  std::vector<Item> items = MakeItems(100);
  Tree tree;
  for (size_t i = 0; i < items.size(); i += 2)
    tree.Insert(items[i]);
  for (size_t i = 1; i < items.size(); i += 2)
    tree.Insert(items[i]);
  size_t count = 0;
  for (Item* it = tree.First(); it != nullptr; it = tree.Next(*it)) {
    EXPECT_EQ(it->id, count);
    ++count;
  }
  EXPECT_EQ(count, items.size());
  for (Item* it = tree.Last(); it != nullptr; it = tree.Prev(*it)) {
    --count;
    EXPECT_EQ(it->id, count);
  }
  EXPECT_EQ(count, 0u);
  tree.Clear();
}

TEST(RbTree, ShapeAccessorsAreConsistent) {
  std::vector<Item> items = MakeItems(64);
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  for (Item& item : items) {
    if (Item* left = tree.Left(item)) EXPECT_EQ(tree.Parent(*left), &item);
    if (Item* right = tree.Right(item)) EXPECT_EQ(tree.Parent(*right), &item);
    Item* parent = tree.Parent(item);
    if (parent == nullptr) {
      EXPECT_EQ(tree.Root(), &item);
    } else {
      EXPECT_TRUE(tree.Left(*parent) == &item || tree.Right(*parent) == &item);
    }
  }
  tree.Clear();
}

// Removing in several orders exercises every erase-fixup case, including removal of nodes with
// two children (successor swap) and of the cached First().
TEST(RbTree, RemoveOrdersKeepInvariants) {
  for (int order = 0; order < 4; ++order) {
    std::vector<Item> items = MakeItems(200);
    Tree tree;
    for (Item& item : items)
      tree.Insert(item);
    for (size_t i = 0; i < items.size(); ++i) {
      Item* victim;
      if (order == 0) victim = tree.First();
      if (order == 1) victim = tree.Last();
      if (order == 2) victim = tree.Root();
      if (order == 3) victim = &items[(i * 37) % items.size()];
      tree.Remove(*victim);
      EXPECT_FALSE(Tree::IsInTree(*victim));
      ASSERT_STREQ(tree.Validate(AugmentOk), nullptr) << "order " << order << " step " << i;
      ASSERT_EQ(tree.Size(), items.size() - i - 1);
    }
    EXPECT_TRUE(tree.Empty());
  }
}

TEST(RbTree, ReinsertAfterRemove) {
  std::vector<Item> items = MakeItems(20);
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  tree.Remove(items[7]);
  items[7].key = 1000;
  tree.Insert(items[7]);
  EXPECT_EQ(tree.Last(), &items[7]);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Clear();
}

TEST(RbTree, UpdateAugmentedPathPropagatesToRoot) {
  std::vector<Item> items = MakeItems(50);
  for (Item& item : items)
    item.weight = 100;
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  EXPECT_EQ(tree.Root()->min_weight, 100);
  // The deepest node: changing it in place must reach the root.
  Item* deepest = nullptr;
  int deepest_depth = -1;
  for (Item& item : items) {
    int depth = 0;
    for (Item* p = tree.Parent(item); p != nullptr; p = tree.Parent(*p))
      ++depth;
    if (depth > deepest_depth) {
      deepest_depth = depth;
      deepest = &item;
    }
  }
  deepest->weight = -3;
  EXPECT_NE(tree.Validate(AugmentOk), nullptr);  // stale until published
  tree.UpdateAugmentedPath(*deepest);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  EXPECT_EQ(tree.Root()->min_weight, -3);
  tree.Clear();
}

// The walk the EEVDF pick uses: leftmost node (smallest key) whose own weight is <= limit,
// pruning subtrees by their augmented minimum.
Item* LeftmostAtMost(const Tree& tree, int64_t limit) {
  Item* node = tree.Root();
  while (node != nullptr) {
    Item* left = tree.Left(*node);
    if (left != nullptr && left->min_weight <= limit) {
      node = left;
    } else if (node->weight <= limit) {
      return node;
    } else {
      Item* right = tree.Right(*node);
      node = (right != nullptr && right->min_weight <= limit) ? right : nullptr;
    }
  }
  return nullptr;
}

TEST(RbTree, AugmentedWalkFindsLeftmostMatch) {
  std::vector<Item> items = MakeItems(300);
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  for (int64_t limit = -1; limit <= 101; ++limit) {
    Item* expected = nullptr;
    for (Item& item : tree) {
      if (item.weight <= limit) {
        expected = &item;
        break;
      }
    }
    EXPECT_EQ(LeftmostAtMost(tree, limit), expected) << "limit " << limit;
  }
  tree.Clear();
}

TEST(RbTree, AugmentIsCalledForInsertPathAndRotations) {
  std::vector<Item> items = MakeItems(3);
  Tree tree;
  tree.Insert(items[0]);
  EXPECT_EQ(items[0].augment_calls, 1u);
  tree.Insert(items[1]);  // no rotation: items[1] then its parent
  EXPECT_EQ(items[1].augment_calls, 1u);
  EXPECT_EQ(items[0].augment_calls, 2u);
  tree.Insert(items[2]);  // leaf + path (3 calls), then a left rotation at items[0]
  EXPECT_EQ(tree.Root(), &items[1]);
  EXPECT_EQ(items[0].subtree_size, 1u);
  EXPECT_EQ(items[1].subtree_size, 3u);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Clear();
}

TEST(RbTree, ClearUnlinksEverything) {
  std::vector<Item> items = MakeItems(33);
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  tree.Clear();
  EXPECT_TRUE(tree.Empty());
  EXPECT_EQ(tree.Size(), 0u);
  EXPECT_EQ(tree.First(), nullptr);
  for (Item& item : items)
    EXPECT_FALSE(Tree::IsInTree(item));
  tree.Insert(items[3]);
  EXPECT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Clear();
}

TEST(RbTree, NoAugmentTraits) {
  PlainItem items[5];
  PlainTree tree;
  for (int i = 0; i < 5; ++i) {
    items[i].key = 4 - i;
    tree.Insert(items[i]);
  }
  EXPECT_EQ(tree.First()->key, 0);
  EXPECT_EQ(tree.Last()->key, 4);
  EXPECT_STREQ(tree.Validate(), nullptr);
  tree.Clear();
}

// Validate must notice each kind of corruption (so a passing Validate means something).
TEST(RbTree, ValidateDetectsCorruption) {
  std::vector<Item> items = MakeItems(31);
  Tree tree;
  for (Item& item : items)
    tree.Insert(item);
  ASSERT_STREQ(tree.Validate(AugmentOk), nullptr);

  Item* root = tree.Root();
  root->node.red = true;
  EXPECT_STREQ(tree.Validate(AugmentOk), "root is red");
  root->node.red = false;

  // Paint a black leaf red: a black leaf exists in a 31-node tree built in order.
  Item* black_leaf = nullptr;
  for (Item& item : items) {
    if (tree.Left(item) == nullptr && tree.Right(item) == nullptr && !item.node.red) {
      black_leaf = &item;
    }
  }
  if (black_leaf != nullptr) {
    black_leaf->node.red = true;
    EXPECT_NE(tree.Validate(AugmentOk), nullptr);
    black_leaf->node.red = false;
  }

  // A red node with a red child.
  Item* red_parent = nullptr;
  for (Item& item : items) {
    if (item.node.red && tree.Left(item) != nullptr) red_parent = &item;
  }
  ASSERT_NE(red_parent, nullptr);
  tree.Left(*red_parent)->node.red = true;
  EXPECT_STREQ(tree.Validate(AugmentOk), "red node with a red child");
  tree.Left(*red_parent)->node.red = false;
  ASSERT_STREQ(tree.Validate(AugmentOk), nullptr);

  // Keys out of order.
  const uint64_t saved_key = tree.First()->key;
  tree.First()->key = 1000;
  EXPECT_STREQ(tree.Validate(AugmentOk), "keys out of order");
  tree.First()->key = saved_key;

  // Stale augmentation.
  tree.Last()->min_weight = -50;
  EXPECT_STREQ(tree.Validate(AugmentOk), "augmentation check failed");
  tree.UpdateAugmentedPath(*tree.Last());
  ASSERT_STREQ(tree.Validate(AugmentOk), nullptr);

  // Broken parent link.
  Item* child = tree.Left(*root);
  child->node.parent = nullptr;
  EXPECT_STREQ(tree.Validate(AugmentOk), "broken parent link");
  child->node.parent = &root->node;
  ASSERT_STREQ(tree.Validate(AugmentOk), nullptr);
  tree.Clear();
}

using RbTreeDeathTest = ::testing::Test;

TEST(RbTreeDeathTest, InsertTwiceAsserts) {
  Item a;
  Tree tree;
  tree.Insert(a);
  EXPECT_DEATH(tree.Insert(a), "already in a tree");
  tree.Clear();
}

TEST(RbTreeDeathTest, InsertIntoSecondTreeAsserts) {
  Item a;
  Tree first;
  Tree second;
  first.Insert(a);
  EXPECT_DEATH(second.Insert(a), "already in a tree");
  first.Clear();
}

TEST(RbTreeDeathTest, RemoveNotInTreeAsserts) {
  Item a;
  Tree tree;
  EXPECT_DEATH(tree.Remove(a), "in no tree");
}

TEST(RbTreeDeathTest, NavigationOnNodeNotInTreeAsserts) {
  Item a;
  Tree tree;
  EXPECT_DEATH(tree.Next(a), "in no tree");
  EXPECT_DEATH(tree.Left(a), "in no tree");
  EXPECT_DEATH(tree.UpdateAugmentedPath(a), "in no tree");
}

#if defined(LICHEN_DEBUG_CHECKS)
TEST(RbTreeDeathTest, DuplicateKeyAssertsInDebugBuilds) {
  Item a;
  Item b;  // same (key, id) as a
  Tree tree;
  tree.Insert(a);
  EXPECT_DEATH(tree.Insert(b), "duplicate key");
  tree.Clear();
}

TEST(RbTreeDeathTest, DestroyingNonEmptyTreeAssertsInDebugBuilds) {
  Item a;
  EXPECT_DEATH(
      {
        Tree tree;
        tree.Insert(a);
      },
      "tree destroyed with 1 nodes");
}
#endif

}  // namespace
}  // namespace lichen
