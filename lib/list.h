// IntrusiveList: a doubly linked list whose nodes live inside the listed objects.
//
//   struct Task { ListNode wait_node; ... };
//   IntrusiveList<Task, &Task::wait_node> waiters;
//   waiters.PushBack(task);  ...  Task* t = waiters.PopFront();
//
// Every operation but Clear() is O(1) and none allocates, so a list operation can never fail.
// The list is circular around a sentinel node owned by the list object; a node that is not on
// any list has null pointers, which is what ListNode::linked() tests. Consequently the list
// object must not move while it holds nodes (it is neither copyable nor movable).
//
// Not thread-safe: the owner serialises access (a lock, or per-CPU ownership with IRQs masked).
#pragma once

#include <cstddef>

#include "lib/assert.h"
#include "lib/container_of.h"

namespace lichen {

// The link embedded in a listed object. Null pointers: on no list.
struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;

  // True while the node is on some list.
  bool linked() const { return next != nullptr; }
};

template <typename T, ListNode T::*Member>
class IntrusiveList {
 public:
  // Empty: the sentinel points at itself. constexpr, so a global list is constant-initialised.
  constexpr IntrusiveList() : sentinel_{&sentinel_, &sentinel_} {}
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  // Destroying a list that still holds nodes would leave them pointing into freed memory.
  ~IntrusiveList() { LICHEN_DEBUG_ASSERT(Empty(), "list destroyed with {} nodes", size_); }

  // True when `item` is on some list (not necessarily this one).
  static bool IsLinked(const T& item) { return (item.*Member).linked(); }

  // True when the list holds no item.
  bool Empty() const { return size_ == 0; }
  // Number of items, kept as a count (O(1)).
  size_t Size() const { return size_; }

  // First / last item, or nullptr when empty.
  T* Front() const { return FromNode(sentinel_.next); }
  T* Back() const { return FromNode(sentinel_.prev); }

  // The item after / before `item` on this list, or nullptr at the end. (Takes const T& so a
  // const walk needs no cast; the list hands out the same mutable pointers as Front().)
  T* Next(const T& item) const { return FromNode(LinkedNode(item)->next); }
  T* Prev(const T& item) const { return FromNode(LinkedNode(item)->prev); }

  // Appends / prepends `item`, which must be on no list.
  void PushBack(T& item) { LinkBefore(&sentinel_, item); }
  void PushFront(T& item) { LinkBefore(sentinel_.next, item); }
  // Puts `item` right after `pos`, which must be on this list.
  void InsertAfter(T& pos, T& item) { LinkBefore(LinkedNode(pos)->next, item); }
  // Puts `item` right before `pos`, which must be on this list.
  void InsertBefore(T& pos, T& item) { LinkBefore(LinkedNode(pos), item); }

  // Unlinks `item`, which must be on this list (that it is on *some* list is asserted; which one
  // cannot be checked in O(1)). Its node reads as unlinked afterwards.
  void Remove(T& item) {
    ListNode* node = LinkedNode(item);
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
    --size_;
  }

  // Unlinks and returns the first / last item, or nullptr when empty.
  T* PopFront() {
    T* item = Front();
    if (item != nullptr) Remove(*item);
    return item;
  }
  T* PopBack() {
    T* item = Back();
    if (item != nullptr) Remove(*item);
    return item;
  }

  // Unlinks every item (O(n)), leaving each node reading as unlinked.
  void Clear() {
    while (PopFront() != nullptr) {
    }
  }

  // Forward iteration yielding T& (or const T&). Unlinking the current item invalidates the
  // iterator; to remove while walking, use `for (T* t = Front(); t; ) { T* n = Next(*t); ... }`.
  template <typename Ref>
  class Iterator {
   public:
    explicit Iterator(const ListNode* node) : node_(node) {}
    // Never called on end(): the sentinel is not embedded in a T.
    Ref operator*() const {
      return *ContainerOf<T, ListNode, Member>(const_cast<ListNode*>(node_));
    }
    Iterator& operator++() {
      node_ = node_->next;
      return *this;
    }
    bool operator==(const Iterator& other) const { return node_ == other.node_; }
    bool operator!=(const Iterator& other) const { return node_ != other.node_; }

   private:
    const ListNode* node_;
  };
  Iterator<T&> begin() { return Iterator<T&>(sentinel_.next); }
  Iterator<T&> end() { return Iterator<T&>(&sentinel_); }
  Iterator<const T&> begin() const { return Iterator<const T&>(sentinel_.next); }
  Iterator<const T&> end() const { return Iterator<const T&>(&sentinel_); }

 private:
  // The owner of `node`, or nullptr for the sentinel.
  T* FromNode(ListNode* node) const {
    if (node == &sentinel_) return nullptr;
    return ContainerOf<T, ListNode, Member>(node);
  }

  // `item`'s node, asserting that it is on a list.
  static ListNode* LinkedNode(const T& item) {
    ListNode* node = const_cast<ListNode*>(&(item.*Member));
    LICHEN_ASSERT(node->linked(), "list operation on an unlinked node");
    return node;
  }

  // Links `item` (which must be unlinked) immediately before `next`.
  void LinkBefore(ListNode* next, T& item) {
    ListNode* node = &(item.*Member);
    LICHEN_ASSERT(!node->linked(), "pushing a node that is already on a list");
    node->next = next;
    node->prev = next->prev;
    next->prev->next = node;
    next->prev = node;
    ++size_;
  }

  // Closes the circle: sentinel_.next is the first node and sentinel_.prev the last.
  ListNode sentinel_;
  size_t size_ = 0;
};

}  // namespace lichen
