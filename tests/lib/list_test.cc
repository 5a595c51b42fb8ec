// Unit tests of lib/list.h.
#include "lib/list.h"

#include <gtest/gtest.h>

#include <vector>

namespace lichen {
namespace {

struct Item {
  int value = 0;
  ListNode node;
  ListNode other_node;  // the same object on a second list at once
};

using List = IntrusiveList<Item, &Item::node>;
using OtherList = IntrusiveList<Item, &Item::other_node>;

std::vector<int> Values(const List& list) {
  std::vector<int> values;
  for (const Item& item : list)
    values.push_back(item.value);
  return values;
}

std::vector<int> ValuesBackwards(const List& list) {
  std::vector<int> values;
  for (Item* item = list.Back(); item != nullptr; item = list.Prev(*item)) {
    values.push_back(item->value);
  }
  return values;
}

// The constructor is constexpr: a global list is constant-initialised.
constinit List g_static_list;

TEST(IntrusiveList, ConstantInitialisedListWorks) {
  Item a;
  EXPECT_TRUE(g_static_list.Empty());
  g_static_list.PushBack(a);
  EXPECT_EQ(g_static_list.Front(), &a);
  g_static_list.Clear();
}

TEST(IntrusiveList, EmptyList) {
  List list;
  EXPECT_TRUE(list.Empty());
  EXPECT_EQ(list.Size(), 0u);
  EXPECT_EQ(list.Front(), nullptr);
  EXPECT_EQ(list.Back(), nullptr);
  EXPECT_EQ(list.PopFront(), nullptr);
  EXPECT_EQ(list.PopBack(), nullptr);
  EXPECT_EQ(list.begin(), list.end());
}

TEST(IntrusiveList, UnlinkedNodeHasNullPointers) {
  Item a;
  EXPECT_FALSE(a.node.linked());
  EXPECT_FALSE(List::IsLinked(a));
  List list;
  list.PushBack(a);
  EXPECT_TRUE(List::IsLinked(a));
  EXPECT_NE(a.node.prev, nullptr);
  list.Remove(a);
  EXPECT_FALSE(List::IsLinked(a));
  EXPECT_EQ(a.node.prev, nullptr);
  EXPECT_EQ(a.node.next, nullptr);
}

TEST(IntrusiveList, PushBackAndFrontKeepOrder) {
  Item items[4];
  for (int i = 0; i < 4; ++i)
    items[i].value = i;
  List list;
  list.PushBack(items[1]);
  list.PushBack(items[2]);
  list.PushFront(items[0]);
  list.PushBack(items[3]);
  EXPECT_EQ(list.Size(), 4u);
  EXPECT_EQ(Values(list), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(ValuesBackwards(list), (std::vector<int>{3, 2, 1, 0}));
  EXPECT_EQ(list.Front(), &items[0]);
  EXPECT_EQ(list.Back(), &items[3]);
  EXPECT_EQ(list.Next(items[3]), nullptr);
  EXPECT_EQ(list.Prev(items[0]), nullptr);
  EXPECT_EQ(list.Next(items[1]), &items[2]);
  EXPECT_EQ(list.Prev(items[1]), &items[0]);
  list.Clear();
}

TEST(IntrusiveList, RemoveFromEveryPosition) {
  for (int victim = 0; victim < 3; ++victim) {
    Item items[3];
    List list;
    for (int i = 0; i < 3; ++i) {
      items[i].value = i;
      list.PushBack(items[i]);
    }
    list.Remove(items[victim]);
    std::vector<int> expected;
    for (int i = 0; i < 3; ++i) {
      if (i != victim) expected.push_back(i);
    }
    EXPECT_EQ(Values(list), expected);
    EXPECT_EQ(ValuesBackwards(list), std::vector<int>(expected.rbegin(), expected.rend()));
    EXPECT_EQ(list.Size(), 2u);
    list.Clear();
  }
}

TEST(IntrusiveList, PopFrontAndBack) {
  Item items[3];
  List list;
  for (int i = 0; i < 3; ++i) {
    items[i].value = i;
    list.PushBack(items[i]);
  }
  EXPECT_EQ(list.PopFront(), &items[0]);
  EXPECT_FALSE(List::IsLinked(items[0]));
  EXPECT_EQ(list.PopBack(), &items[2]);
  EXPECT_EQ(list.PopFront(), &items[1]);
  EXPECT_EQ(list.PopFront(), nullptr);
  EXPECT_TRUE(list.Empty());
}

TEST(IntrusiveList, InsertAfterAndBefore) {
  Item items[5];
  for (int i = 0; i < 5; ++i)
    items[i].value = i;
  List list;
  list.PushBack(items[0]);
  list.InsertAfter(items[0], items[2]);  // 0 2
  list.InsertAfter(items[2], items[4]);  // 0 2 4 (after the back)
  list.InsertAfter(items[0], items[1]);  // 0 1 2 4
  list.InsertBefore(items[4], items[3]);
  EXPECT_EQ(Values(list), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(list.Back(), &items[4]);
  EXPECT_EQ(list.Size(), 5u);
  list.Clear();
}

TEST(IntrusiveList, ObjectOnTwoListsThroughTwoNodes) {
  Item items[3];
  List list;
  OtherList other;
  for (int i = 0; i < 3; ++i) {
    items[i].value = i;
    list.PushBack(items[i]);
    other.PushFront(items[i]);
  }
  EXPECT_EQ(Values(list), (std::vector<int>{0, 1, 2}));
  std::vector<int> other_values;
  for (Item& item : other)
    other_values.push_back(item.value);
  EXPECT_EQ(other_values, (std::vector<int>{2, 1, 0}));
  list.Remove(items[1]);
  EXPECT_TRUE(OtherList::IsLinked(items[1]));
  EXPECT_EQ(other.Size(), 3u);
  list.Clear();
  other.Clear();
}

TEST(IntrusiveList, RangeForYieldsMutableReferences) {
  Item items[3];
  List list;
  for (Item& item : items)
    list.PushBack(item);
  for (Item& item : list)
    item.value += 10;
  EXPECT_EQ(Values(list), (std::vector<int>{10, 10, 10}));
  list.Clear();
}

TEST(IntrusiveList, RemoveWhileWalkingWithNext) {
  Item items[6];
  List list;
  for (int i = 0; i < 6; ++i) {
    items[i].value = i;
    list.PushBack(items[i]);
  }
  for (Item* it = list.Front(); it != nullptr;) {
    Item* next = list.Next(*it);
    if (it->value % 2 == 0) list.Remove(*it);
    it = next;
  }
  EXPECT_EQ(Values(list), (std::vector<int>{1, 3, 5}));
  list.Clear();
}

TEST(IntrusiveList, ClearUnlinksAll) {
  Item items[4];
  List list;
  for (Item& item : items)
    list.PushBack(item);
  list.Clear();
  EXPECT_TRUE(list.Empty());
  for (Item& item : items)
    EXPECT_FALSE(List::IsLinked(item));
  list.PushBack(items[2]);  // reusable afterwards
  EXPECT_EQ(list.Front(), &items[2]);
  list.Clear();
}

using IntrusiveListDeathTest = ::testing::Test;

TEST(IntrusiveListDeathTest, PushingALinkedNodeAsserts) {
  Item a;
  List list;
  list.PushBack(a);
  EXPECT_DEATH(list.PushBack(a), "already on a list");
  EXPECT_DEATH(list.PushFront(a), "already on a list");
  List second;
  EXPECT_DEATH(second.PushBack(a), "already on a list");
  list.Clear();
}

TEST(IntrusiveListDeathTest, RemovingAnUnlinkedNodeAsserts) {
  Item a;
  Item b;
  List list;
  EXPECT_DEATH(list.Remove(a), "unlinked node");
  EXPECT_DEATH(list.Next(a), "unlinked node");
  EXPECT_DEATH(list.InsertAfter(a, b), "unlinked node");
}

#if defined(LICHEN_DEBUG_CHECKS)
TEST(IntrusiveListDeathTest, DestroyingANonEmptyListAssertsInDebugBuilds) {
  Item a;
  EXPECT_DEATH(
      {
        List list;
        list.PushBack(a);
      },
      "list destroyed with 1 nodes");
}
#endif

}  // namespace
}  // namespace lichen
