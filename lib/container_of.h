// ContainerOf: from a pointer to an embedded member back to the object that embeds it.
//
// The intrusive containers (list.h, rbtree.h, mpsc.h) store pointers to nodes that live inside
// the caller's objects and are parameterised by a pointer to that member (`ListNode Task::*`).
// Turning a node pointer back into its owner needs the member's byte offset. C++ offers no
// constant-expression way to get it from a member pointer, so we rely on the Itanium C++ ABI
// (used by both of Lichen's targets, x86-64 and AArch64 Linux/ELF): a pointer to a data member
// is represented as the member's offset in a ptrdiff_t. The static_assert below catches an ABI
// where that does not hold in size; the unit tests check the offsets themselves.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lichen {

// Byte offset of `member` within Owner (Itanium ABI: the member pointer's representation).
// Folds to a constant when `member` is a template argument.
template <typename Owner, typename M>
inline std::ptrdiff_t MemberOffset(M Owner::*member) {
  static_assert(sizeof(member) == sizeof(std::ptrdiff_t),
                "data member pointers are expected to be a plain offset (Itanium C++ ABI)");
  return __builtin_bit_cast(std::ptrdiff_t, member);
}

// The Owner whose `Member` is `*node`. `node` must really be that member of a live Owner.
template <typename Owner, typename M, M Owner::*Member>
inline Owner* ContainerOf(M* node) {
  return reinterpret_cast<Owner*>(reinterpret_cast<char*>(node) - MemberOffset(Member));
}

// Const flavour of ContainerOf.
template <typename Owner, typename M, M Owner::*Member>
inline const Owner* ContainerOf(const M* node) {
  return reinterpret_cast<const Owner*>(reinterpret_cast<const char*>(node) - MemberOffset(Member));
}

}  // namespace lichen
