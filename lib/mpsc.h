// MpscList: an intrusive lock-free multi-producer single-consumer list, in the style of
// Linux's llist. Each CPU's mailbox is one: any CPU (or interrupt handler) pushes, the owner
// takes everything at once.
//
//   struct Task { MpscNode wake_node; ... };
//   MpscList<Task, &Task::wake_node> inbox;
//   if (inbox.Push(task)) SendIpi(target);        // one IPI per burst
//   ...on the target, IRQs masked...
//   auto batch = inbox.TakeAll();                  // FIFO order
//   while (Task* t = batch.PopFront()) Enqueue(*t);
//
// Pushing never fails and never allocates: the node lives in the pushed object.
//
// Memory ordering. Push links its node to the head it last saw and publishes it with a
// release CAS on head_; TakeAll detaches the whole chain with an acquire exchange. Every RMW on
// head_ (each push's CAS, each take's exchange) continues the release sequence of the pushes
// before it, so the take's acquire synchronises with every push whose node it detached: the
// pushers' writes to their objects, including MpscNode::next, happen before the consumer reads
// them. That is why `next` can be a plain pointer: it is written only by the pusher, before its
// publishing CAS, while the node is on no list, and read only by the consumer after the take
// (and by the Batch that then owns the chain). ThreadSanitizer models release sequences and
// agrees (tests/tsan/).
//
// No ABA problem: nodes leave the list only all together (TakeAll), never one by one, and a
// pusher never dereferences the head it read; it only stores it into its own node. If the
// head went from A to empty and back to A between a pusher's load and its CAS, the CAS links
// the new node in front of the current A, which is exactly right. (The classic Treiber-stack
// ABA needs a concurrent single-node pop that reads head->next before its CAS.)
//
// Rules: a node is pushed only when it is on no list (the caller's state machine guarantees
// that, e.g. a task is woken once); TakeAll and the Batch belong to the single consumer, which
// serialises its own contexts (the owning CPU with IRQs masked).
#pragma once

#include <cstddef>

#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/container_of.h"

namespace lichen {

// The link embedded in an object that can be sent through an MpscList.
struct MpscNode {
  MpscNode* next = nullptr;
};

template <typename T, MpscNode T::*Member>
class MpscList {
 public:
  // What TakeAll returns: the detached items in push (FIFO) order, owned by the consumer. A
  // plain singly linked chain; no atomics. Move-only. Destroying a batch that still holds items
  // would lose them, which is a debug-check failure.
  class Batch {
   public:
    Batch() = default;
    Batch(Batch&& other) : head_(other.head_), size_(other.size_) {
      other.head_ = nullptr;
      other.size_ = 0;
    }
    Batch& operator=(Batch&& other) {
      LICHEN_DEBUG_ASSERT(Empty(), "MpscList batch overwritten with {} items", size_);
      head_ = other.head_;
      size_ = other.size_;
      other.head_ = nullptr;
      other.size_ = 0;
      return *this;
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { LICHEN_DEBUG_ASSERT(Empty(), "MpscList batch dropped with {} items", size_); }

    bool Empty() const { return head_ == nullptr; }
    size_t Size() const { return size_; }
    // The oldest item, still in the batch; nullptr when empty.
    T* Front() const { return head_ != nullptr ? Owner(head_) : nullptr; }

    // Detaches and returns the oldest item (its node's `next` is cleared, so the caller may
    // push it anywhere at once); nullptr when empty.
    T* PopFront() {
      MpscNode* node = head_;
      if (node == nullptr) return nullptr;
      head_ = node->next;
      node->next = nullptr;
      --size_;
      return Owner(node);
    }

    // Range-for pops: each item is detached before the loop body sees it, so the body may
    // push it onward (or free it). Breaking out of the loop leaves the rest in the batch.
    class Iterator {
     public:
      explicit Iterator(Batch* batch) : batch_(batch) {}
      T& operator*() const { return *batch_->PopFront(); }
      Iterator& operator++() { return *this; }  // the dereference already advanced
      bool operator!=(const Iterator&) const { return !batch_->Empty(); }

     private:
      Batch* batch_;
    };
    Iterator begin() { return Iterator(this); }
    Iterator end() { return Iterator(this); }

   private:
    friend class MpscList;
    Batch(MpscNode* head, size_t size) : head_(head), size_(size) {}

    MpscNode* head_ = nullptr;  // oldest first
    size_t size_ = 0;
  };

  constexpr MpscList() = default;
  MpscList(const MpscList&) = delete;
  MpscList& operator=(const MpscList&) = delete;

  // Adds `item` (on no list) from any context; lock-free. Returns true iff the list was empty
  // just before this push, i.e. this push starts a new burst: exactly one push per non-empty
  // TakeAll returns true, so "send an IPI when Push returns true" sends one per burst.
  bool Push(T& item) {
    MpscNode* node = &(item.*Member);
    MpscNode* head = head_.Load(std::memory_order_relaxed);
    do {
      node->next = head;  // not yet visible to anyone: the CAS below publishes it
    } while (
        !head_.CompareExchange(head, node, std::memory_order_release, std::memory_order_relaxed));
    return head == nullptr;
  }

  // Consumer only: detaches everything pushed so far and returns it oldest first. O(n) to
  // restore push order (the list itself is LIFO).
  Batch TakeAll() {
    MpscNode* node = head_.Exchange(nullptr, std::memory_order_acquire);
    MpscNode* fifo = nullptr;
    size_t size = 0;
    while (node != nullptr) {
      MpscNode* older = node->next;
      node->next = fifo;
      fifo = node;
      node = older;
      ++size;
    }
    return Batch(fifo, size);
  }

  // Racy peek, for idle loops and statistics: may be stale by the time it returns.
  bool EmptyHint() const { return head_.Load(std::memory_order_relaxed) == nullptr; }

 private:
  static T* Owner(MpscNode* node) { return ContainerOf<T, MpscNode, Member>(node); }

  Atomic<MpscNode*> head_{nullptr};  // newest first
};

}  // namespace lichen
