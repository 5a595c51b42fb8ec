// Unit tests of lib/container_of.h: the member-pointer offset is the real offset, including for
// members of base classes.
#include "lib/container_of.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>

namespace lichen {
namespace {

struct Node {
  Node* next;
};

struct Base {
  uint64_t a;
  Node base_node;
};

struct Derived : Base {
  char pad[13];
  Node first;
  uint32_t x;
  Node second;
};

// Byte distance from the start of `object` to `member` (offsetof is not allowed on Derived,
// which is not standard-layout).
std::ptrdiff_t Distance(const void* object, const void* member) {
  return static_cast<const char*>(member) - static_cast<const char*>(object);
}

TEST(ContainerOf, OffsetsMatchTheLayout) {
  Derived d;
  EXPECT_EQ(MemberOffset(&Derived::first), Distance(&d, &d.first));
  EXPECT_EQ(MemberOffset(&Derived::second), Distance(&d, &d.second));
  EXPECT_EQ(MemberOffset(&Base::base_node), static_cast<std::ptrdiff_t>(offsetof(Base, base_node)));
  EXPECT_EQ(MemberOffset(&Base::a), 0);
  EXPECT_GT(MemberOffset(&Derived::second), MemberOffset(&Derived::first));
}

TEST(ContainerOf, RoundTrips) {
  Derived d;
  EXPECT_EQ((ContainerOf<Derived, Node, &Derived::first>(&d.first)), &d);
  EXPECT_EQ((ContainerOf<Derived, Node, &Derived::second>(&d.second)), &d);
  const Derived& cd = d;
  EXPECT_EQ((ContainerOf<Derived, Node, &Derived::second>(&cd.second)), &cd);
  // A member of a base class, with the base as the owner.
  Base& base = d;
  EXPECT_EQ((ContainerOf<Base, Node, &Base::base_node>(&d.base_node)), &base);
}

}  // namespace
}  // namespace lichen
