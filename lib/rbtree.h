// RbTree: an intrusive red-black tree with a subtree augmentation hook.
//
//   struct Task { RbNode run_node; uint64_t deadline, id, vruntime, min_vruntime; };
//   struct ByDeadline {
//     static bool Less(const Task& a, const Task& b);          // (deadline, id): keys unique
//     static void Augment(Task& n, const Task* l, const Task* r);  // n.min_vruntime = min(...)
//   };
//   RbTree<Task, &Task::run_node, ByDeadline> queue;
//
// Insert and Remove are O(log n) and never allocate. First() is cached (O(1)). Root(), Left(),
// Right() and Parent() expose the shape for custom O(log n) walks, e.g. "the leftmost node whose
// subtree holds an eligible task" using the augmented subtree minimum.
//
// Augmentation: Traits::Augment(node, left, right) recomputes `node`'s augmented fields from
// its own fields and its children's (nullable) augmented fields. The tree calls it bottom-up
// after every structural change -- for the new leaf and its path to the root on insert, for the
// path above the spliced position on erase (which covers the successor that moved into the
// erased node's place), and for both nodes of every rotation, lower one first -- so that after
// each public operation every node's augmented fields are correct. A change to a field that
// Augment reads but Less does not is published with UpdateAugmentedPath(node). A change to the
// key needs Remove + Insert.
//
// Not thread-safe: the owner serialises access.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lib/assert.h"
#include "lib/container_of.h"

namespace lichen {

// The links embedded in a tree element. All zero: in no tree.
struct RbNode {
  RbNode* parent = nullptr;  // null at the root
  RbNode* left = nullptr;    // smaller keys
  RbNode* right = nullptr;   // larger keys
  bool red = false;          // colour; black when false
  // Set while the node is in a tree: distinguishes a lone root (all links null) from a node
  // in no tree.
  bool in_tree = false;
};

// Traits base for trees without augmentation: `struct Traits : NoAugment { static bool Less(...)
// }`. Its Augment is empty, so the optimiser deletes the calls and the path walks around them.
struct NoAugment {
  template <typename T>
  static void Augment(T& /*node*/, const T* /*left*/, const T* /*right*/) {}
};

template <typename T, RbNode T::*Member, typename Traits>
class RbTree {
  static_assert(
      std::is_same_v<decltype(Traits::Less(std::declval<const T&>(), std::declval<const T&>())),
                     bool>,
      "Traits must provide static bool Less(const T&, const T&)");
  using AugmentResult = decltype(Traits::Augment(std::declval<T&>(), std::declval<const T*>(),
                                                 std::declval<const T*>()));
  static_assert(std::is_void_v<AugmentResult> || std::is_same_v<AugmentResult, bool>,
                "Traits must provide static void Augment(T&, const T*, const T*) (or derive "
                "from NoAugment), or a bool one that says whether the node's value changed");
  // An Augment that reports "unchanged" lets a walk to the root stop early: if a node's
  // augmented value did not change, neither can any ancestor's (Linux's propagate callback).
  static constexpr bool kEarlyExit = std::is_same_v<AugmentResult, bool>;

 public:
  constexpr RbTree() = default;
  RbTree(const RbTree&) = delete;
  RbTree& operator=(const RbTree&) = delete;
  // Destroying a tree that still holds nodes would leave them marked in_tree forever.
  ~RbTree() { LICHEN_DEBUG_ASSERT(Empty(), "tree destroyed with {} nodes", size_); }

  // True while `item` is in some tree.
  static bool IsInTree(const T& item) { return (item.*Member).in_tree; }

  // True when the tree holds no node.
  bool Empty() const { return root_ == nullptr; }
  // Number of nodes, kept as a count (O(1)).
  size_t Size() const { return size_; }

  // The root, for custom walks; nullptr when empty.
  T* Root() const { return Owner(root_); }
  // The smallest element (cached, O(1)); nullptr when empty.
  T* First() const { return Owner(leftmost_); }
  // The largest element (O(log n)); nullptr when empty.
  T* Last() const {
    RbNode* node = root_;
    if (node == nullptr) return nullptr;
    while (node->right != nullptr)
      node = node->right;
    return Owner(node);
  }

  // Shape accessors for walks; `item` must be in this tree. nullptr where there is no link.
  T* Left(const T& item) const { return Owner(InTreeNode(item)->left); }
  T* Right(const T& item) const { return Owner(InTreeNode(item)->right); }
  T* Parent(const T& item) const { return Owner(InTreeNode(item)->parent); }

  // In-order successor / predecessor of `item` (O(log n) worst, O(1) amortised); nullptr at
  // the end.
  T* Next(const T& item) const { return Owner(NextNode(InTreeNode(item))); }
  T* Prev(const T& item) const { return Owner(PrevNode(InTreeNode(item))); }

  // Adds `item`, which must be in no tree and whose key must differ from every key present.
  void Insert(T& item) {
    RbNode* node = &(item.*Member);
    LICHEN_ASSERT(!node->in_tree, "RbTree::Insert of a node already in a tree");
    RbNode* parent = nullptr;
    RbNode** link = &root_;
    bool leftmost = true;
    while (*link != nullptr) {
      parent = *link;
      if (Traits::Less(item, *Owner(parent))) {
        link = &parent->left;
      } else {
        LICHEN_DEBUG_ASSERT(Traits::Less(*Owner(parent), item), "RbTree::Insert: duplicate key");
        link = &parent->right;
        leftmost = false;
      }
    }
    node->parent = parent;
    node->left = node->right = nullptr;
    node->red = true;
    node->in_tree = true;
    *link = node;
    if (leftmost) leftmost_ = node;
    ++size_;
    // The new leaf's stored value is stale (from its last time in a tree): the walk goes on at
    // least to its parent, whose subtree did grow.
    AugmentToRoot(node, node);
    InsertFixup(node);
  }

  // Removes `item`, which must be in this tree; afterwards IsInTree(item) is false.
  void Remove(T& item) {
    RbNode* node = InTreeNode(item);
    if (leftmost_ == node) leftmost_ = NextNode(node);
    RbNode* child;            // what takes the spliced-out position (may be null)
    RbNode* parent;           // its parent after the splice
    bool removed_red;         // colour that left the spliced-out position
    RbNode* moved = nullptr;  // the successor that took `node`'s place, if any
    if (node->left == nullptr || node->right == nullptr) {
      // At most one child: splice `node` out directly.
      child = node->left != nullptr ? node->left : node->right;
      parent = node->parent;
      removed_red = node->red;
      ReplaceChild(parent, node, child);
      if (child != nullptr) child->parent = parent;
    } else {
      // Two children: the successor (leftmost of the right subtree, no left child) leaves its
      // place and takes `node`'s place and colour.
      RbNode* successor = node->right;
      while (successor->left != nullptr)
        successor = successor->left;
      child = successor->right;
      removed_red = successor->red;
      if (successor->parent == node) {
        parent = successor;
      } else {
        parent = successor->parent;
        parent->left = child;
        if (child != nullptr) child->parent = parent;
        successor->right = node->right;
        successor->right->parent = successor;
      }
      successor->left = node->left;
      successor->left->parent = successor;
      successor->parent = node->parent;
      ReplaceChild(node->parent, node, successor);
      successor->red = node->red;
      moved = successor;
    }
    // Every node whose subtree changed lies on the path from `parent` to the root (with two
    // children, that path passes through the successor's new position, whose stored value is
    // from its old place: the walk may not stop before it has recomputed it).
    AugmentToRoot(parent, moved);
    *node = RbNode{};
    --size_;
    if (!removed_red) RemoveFixup(child, parent);
  }

  // Recomputes the augmentation of `item` and its ancestors, after `item`'s own augmented
  // inputs changed in place (its key must not have changed). O(log n).
  void UpdateAugmentedPath(T& item) { AugmentToRoot(InTreeNode(item)); }

  // Unlinks every node (O(n)); each reads as in no tree afterwards.
  void Clear() {
    RbNode* node = root_;
    while (node != nullptr) {
      if (node->left != nullptr) {
        node = node->left;
      } else if (node->right != nullptr) {
        node = node->right;
      } else {
        RbNode* parent = node->parent;
        if (parent != nullptr) (parent->left == node ? parent->left : parent->right) = nullptr;
        *node = RbNode{};
        node = parent;
      }
    }
    root_ = leftmost_ = nullptr;
    size_ = 0;
  }

  // In-order iteration yielding T&. Removing the current element invalidates the iterator.
  class Iterator {
   public:
    explicit Iterator(RbNode* node) : node_(node) {}
    T& operator*() const { return *Owner(node_); }
    Iterator& operator++() {
      node_ = NextNode(node_);
      return *this;
    }
    bool operator==(const Iterator& other) const { return node_ == other.node_; }
    bool operator!=(const Iterator& other) const { return node_ != other.node_; }

   private:
    RbNode* node_;
  };
  Iterator begin() const { return Iterator(leftmost_); }
  Iterator end() const { return Iterator(nullptr); }

  // Checks the whole tree (O(n), for tests and debug checks): BST order under Traits::Less,
  // parent links, red-black rules (black root, no red node with a red child, equal black
  // height on every path), the in_tree marks, Size() and First(); and calls
  // `check(const T& node, const T* left, const T* right) -> bool` on every node, children
  // first, so the caller can verify the augmentation. Returns nullptr when all holds, else a
  // description of the first violation found.
  template <typename F>
  const char* Validate(F check) const {
    if (root_ == nullptr) {
      return size_ == 0 && leftmost_ == nullptr ? nullptr : "empty tree with a size or a First()";
    }
    if (root_->parent != nullptr) return "root has a parent";
    if (root_->red) return "root is red";
    ValidateState state;
    ValidateSubtree(root_, state, check);
    if (state.error != nullptr) return state.error;
    if (state.count != size_) return "Size() differs from the node count";
    const RbNode* leftmost = root_;
    while (leftmost->left != nullptr)
      leftmost = leftmost->left;
    if (leftmost != leftmost_) return "cached First() is not the leftmost node";
    return nullptr;
  }
  // Validate without an augmentation check.
  const char* Validate() const {
    return Validate([](const T&, const T*, const T*) { return true; });
  }

 private:
  static T* Owner(const RbNode* node) {
    if (node == nullptr) return nullptr;
    return ContainerOf<T, RbNode, Member>(const_cast<RbNode*>(node));
  }

  static bool IsRed(const RbNode* node) { return node != nullptr && node->red; }

  // `item`'s node, asserting that it is in a tree.
  static RbNode* InTreeNode(const T& item) {
    RbNode* node = const_cast<RbNode*>(&(item.*Member));
    LICHEN_ASSERT(node->in_tree, "RbTree operation on a node that is in no tree");
    return node;
  }

  static RbNode* NextNode(const RbNode* node) {
    if (node->right != nullptr) {
      node = node->right;
      while (node->left != nullptr)
        node = node->left;
      return const_cast<RbNode*>(node);
    }
    while (node->parent != nullptr && node == node->parent->right)
      node = node->parent;
    return node->parent;
  }

  static RbNode* PrevNode(const RbNode* node) {
    if (node->left != nullptr) {
      node = node->left;
      while (node->right != nullptr)
        node = node->right;
      return const_cast<RbNode*>(node);
    }
    while (node->parent != nullptr && node == node->parent->left)
      node = node->parent;
    return node->parent;
  }

  // Recomputes one node's augmentation from its children's.
  // Recomputes `node` from its children; false when its value did not change (always true for
  // a void Augment, which cannot tell).
  static bool AugmentNode(RbNode* node) {
    if constexpr (kEarlyExit) {
      return Traits::Augment(*Owner(node), Owner(node->left), Owner(node->right));
    } else {
      Traits::Augment(*Owner(node), Owner(node->left), Owner(node->right));
      return true;
    }
  }

  // Recomputes `node` and its ancestors, bottom-up (no-op for nullptr). With an early-exit
  // Augment it stops at the first node whose value did not change. "Did not change" compares
  // with the value stored in the node, which means something only if the node held the same
  // position before: for `stale` (a node just linked in, or moved into another's place) and
  // everything below it on the path, the walk goes on regardless.
  static void AugmentToRoot(RbNode* node, RbNode* stale = nullptr) {
    for (; node != nullptr; node = node->parent) {
      const bool changed = AugmentNode(node);
      if (node == stale) {
        stale = nullptr;
        continue;
      }
      if (!changed && stale == nullptr) return;
    }
  }

  // Makes `new_child` take `old_child`'s place under `parent` (or as the root).
  void ReplaceChild(RbNode* parent, RbNode* old_child, RbNode* new_child) {
    if (parent == nullptr) {
      root_ = new_child;
    } else if (parent->left == old_child) {
      parent->left = new_child;
    } else {
      parent->right = new_child;
    }
  }

  //     x                y
  //    / \              / \        .
  //   a   y     ->     x   c
  //      / \          / \        .
  //     b   c        a   b
  // The set of nodes under the top position is unchanged, so only x and y need recomputing,
  // x first (it is now y's child).
  void RotateLeft(RbNode* x) {
    RbNode* y = x->right;
    x->right = y->left;
    if (y->left != nullptr) y->left->parent = x;
    y->parent = x->parent;
    ReplaceChild(x->parent, x, y);
    y->left = x;
    x->parent = y;
    AugmentNode(x);
    AugmentNode(y);
  }

  // Mirror of RotateLeft.
  void RotateRight(RbNode* x) {
    RbNode* y = x->left;
    x->left = y->right;
    if (y->right != nullptr) y->right->parent = x;
    y->parent = x->parent;
    ReplaceChild(x->parent, x, y);
    y->right = x;
    x->parent = y;
    AugmentNode(x);
    AugmentNode(y);
  }

  // Restores the red-black rules after linking the red leaf `node`.
  void InsertFixup(RbNode* node) {
    RbNode* parent;
    while ((parent = node->parent) != nullptr && parent->red) {
      RbNode* grandparent = parent->parent;  // exists: a red node is never the root
      if (parent == grandparent->left) {
        RbNode* uncle = grandparent->right;
        if (IsRed(uncle)) {
          parent->red = uncle->red = false;
          grandparent->red = true;
          node = grandparent;
          continue;
        }
        if (node == parent->right) {
          RotateLeft(parent);
          node = parent;
          parent = node->parent;
        }
        parent->red = false;
        grandparent->red = true;
        RotateRight(grandparent);
      } else {
        RbNode* uncle = grandparent->left;
        if (IsRed(uncle)) {
          parent->red = uncle->red = false;
          grandparent->red = true;
          node = grandparent;
          continue;
        }
        if (node == parent->left) {
          RotateRight(parent);
          node = parent;
          parent = node->parent;
        }
        parent->red = false;
        grandparent->red = true;
        RotateLeft(grandparent);
      }
    }
    root_->red = false;
  }

  // Restores the red-black rules after a black node left the position now held by `node`
  // (possibly null) under `parent`: that path is one black short.
  void RemoveFixup(RbNode* node, RbNode* parent) {
    while (node != root_ && !IsRed(node)) {
      if (node == parent->left) {
        RbNode* sibling = parent->right;  // non-null: its side has a black height of at least 1
        if (sibling->red) {
          sibling->red = false;
          parent->red = true;
          RotateLeft(parent);
          sibling = parent->right;
        }
        if (!IsRed(sibling->left) && !IsRed(sibling->right)) {
          sibling->red = true;
          node = parent;
          parent = node->parent;
          continue;
        }
        if (!IsRed(sibling->right)) {
          sibling->left->red = false;
          sibling->red = true;
          RotateRight(sibling);
          sibling = parent->right;
        }
        sibling->red = parent->red;
        parent->red = false;
        sibling->right->red = false;
        RotateLeft(parent);
        node = root_;
      } else {
        RbNode* sibling = parent->left;
        if (sibling->red) {
          sibling->red = false;
          parent->red = true;
          RotateRight(parent);
          sibling = parent->left;
        }
        if (!IsRed(sibling->left) && !IsRed(sibling->right)) {
          sibling->red = true;
          node = parent;
          parent = node->parent;
          continue;
        }
        if (!IsRed(sibling->left)) {
          sibling->right->red = false;
          sibling->red = true;
          RotateLeft(sibling);
          sibling = parent->left;
        }
        sibling->red = parent->red;
        parent->red = false;
        sibling->left->red = false;
        RotateRight(parent);
        node = root_;
      }
    }
    if (node != nullptr) node->red = false;
  }

  // Running totals of Validate's in-order walk.
  struct ValidateState {
    const RbNode* previous = nullptr;  // in-order predecessor of the node being visited
    size_t count = 0;
    const char* error = nullptr;
  };

  // Validates the subtree under `node` and returns its black height (nil leaves count 1).
  // Recursion depth is the tree height, at most 2 log2(n + 1).
  template <typename F>
  static int ValidateSubtree(const RbNode* node, ValidateState& state, F& check) {
    if (node == nullptr || state.error != nullptr) return 1;
    if (!node->in_tree) state.error = "node in the tree is not marked in_tree";
    if (node->left != nullptr && node->left->parent != node) state.error = "broken parent link";
    if (node->right != nullptr && node->right->parent != node) state.error = "broken parent link";
    if (node->red && (IsRed(node->left) || IsRed(node->right))) {
      state.error = "red node with a red child";
    }
    if (state.error != nullptr) return 1;
    const int left_height = ValidateSubtree(node->left, state, check);
    if (state.error != nullptr) return 1;
    if (state.previous != nullptr && (!Traits::Less(*Owner(state.previous), *Owner(node)) ||
                                      Traits::Less(*Owner(node), *Owner(state.previous)))) {
      state.error = "keys out of order";
      return 1;
    }
    state.previous = node;
    ++state.count;
    const int right_height = ValidateSubtree(node->right, state, check);
    if (state.error != nullptr) return 1;
    if (left_height != right_height) {
      state.error = "unequal black heights";
      return 1;
    }
    if (!check(static_cast<const T&>(*Owner(node)), static_cast<const T*>(Owner(node->left)),
               static_cast<const T*>(Owner(node->right)))) {
      state.error = "augmentation check failed";
      return 1;
    }
    return left_height + (node->red ? 0 : 1);
  }

  RbNode* root_ = nullptr;
  RbNode* leftmost_ = nullptr;  // cached First()
  size_t size_ = 0;
};

}  // namespace lichen
