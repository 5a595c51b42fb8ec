// Unit tests of lib/result.h.
#include "lib/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace lichen {
namespace {

// Counts live instances so that every construction is matched by exactly one destruction.
struct Tracked {
  static int live;
  int value;
  explicit Tracked(int v) : value(v) { ++live; }
  Tracked(const Tracked& other) : value(other.value) { ++live; }
  Tracked(Tracked&& other) noexcept : value(other.value) {
    other.value = -1;
    ++live;
  }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { --live; }
};
int Tracked::live = 0;

// No default constructor, no copy.
struct MoveOnly {
  explicit MoveOnly(int v) : p(std::make_unique<int>(v)) {}
  std::unique_ptr<int> p;
};

Result<int> Parse(int x) {
  if (x < 0) return Error::kInvalidArgument;
  return x * 2;
}

Result<int> AddParsed(int a, int b) {
  const int pa = LICHEN_TRY(Parse(a));
  const int pb = LICHEN_TRY(Parse(b));
  return pa + pb;
}

Result<void> Check(bool good) {
  if (!good) return Error::kBadState;
  return {};
}

Result<int> AfterCheck(bool good) {
  LICHEN_TRY(Check(good));
  return 7;
}

Result<MoveOnly> MakeMoveOnly(int v) {
  if (v == 0) return Error::kEmpty;
  return MoveOnly(v);
}

Result<int> UseMoveOnly(int v) {
  MoveOnly m = LICHEN_TRY(MakeMoveOnly(v));
  return *m.p;
}

Result<int> Nested(int a) {
  return LICHEN_TRY(Parse(LICHEN_TRY(Parse(a))));
}

Error ReturnsPlainError(int a) {
  LICHEN_TRY(Parse(a));
  return Error::kNotFound;
}

TEST(Result, HoldsValue) {
  Result<int> r = 5;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 5);
  EXPECT_EQ(r.value_or(9), 5);
  r.value() = 6;
  EXPECT_EQ(r.value(), 6);
}

TEST(Result, HoldsError) {
  Result<int> r = Error::kBusy;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::kBusy);
  EXPECT_EQ(r.value_or(9), 9);
}

TEST(Result, ConvertingConstruction) {
  Result<uint64_t> widened = 3;  // int -> uint64_t
  EXPECT_EQ(widened.value(), 3u);
  struct Base {
    virtual ~Base() = default;
  };
  struct Derived : Base {};
  Result<std::unique_ptr<Base>> upcast = std::make_unique<Derived>();
  EXPECT_NE(upcast.value(), nullptr);
  Result<int*> null = nullptr;
  EXPECT_TRUE(null.ok());
  EXPECT_EQ(null.value(), nullptr);
  Result<std::string> in_place(std::in_place, 3, 'x');
  EXPECT_EQ(in_place.value(), "xxx");
}

TEST(Result, NonDefaultConstructibleMoveOnly) {
  Result<MoveOnly> r = MakeMoveOnly(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r.value().p, 4);
  Result<MoveOnly> moved = std::move(r);
  EXPECT_EQ(*moved.value().p, 4);
  MoveOnly taken = std::move(moved).value();
  EXPECT_EQ(*taken.p, 4);
  Result<MoveOnly> failed = MakeMoveOnly(0);
  EXPECT_EQ(failed.error(), Error::kEmpty);
}

TEST(Result, EveryValueIsDestroyedExactlyOnce) {
  ASSERT_EQ(Tracked::live, 0);
  {
    Result<Tracked> a = Tracked(1);
    Result<Tracked> b = a;             // copy
    Result<Tracked> c = std::move(a);  // move
    Result<Tracked> e = Error::kFull;
    EXPECT_EQ(Tracked::live, 3);
    e = b;  // error <- value
    EXPECT_EQ(Tracked::live, 4);
    b = Result<Tracked>(Error::kEmpty);  // value <- error
    EXPECT_EQ(Tracked::live, 3);
    c = std::move(e);  // value <- value
    EXPECT_EQ(Tracked::live, 3);
    EXPECT_EQ(c.value().value, 1);
    Result<Tracked>& alias = c;
    c = alias;  // self-assignment keeps the value
    EXPECT_EQ(c.value().value, 1);
    EXPECT_EQ(b.error(), Error::kEmpty);
    EXPECT_EQ(Tracked(2).value, 2);
    EXPECT_EQ(Result<Tracked>(Error::kFull).value_or(Tracked(8)).value, 8);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(Result, VoidResult) {
  Result<void> ok = Check(true);
  EXPECT_TRUE(ok.ok());
  ok.value();
  Result<void> bad = Check(false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Error::kBadState);
}

TEST(Result, TryPropagatesErrorsAndUnwrapsValues) {
  EXPECT_EQ(AddParsed(1, 2).value(), 6);
  EXPECT_EQ(AddParsed(-1, 2).error(), Error::kInvalidArgument);
  EXPECT_EQ(AddParsed(1, -2).error(), Error::kInvalidArgument);
  EXPECT_EQ(AfterCheck(true).value(), 7);
  EXPECT_EQ(AfterCheck(false).error(), Error::kBadState);
  EXPECT_EQ(UseMoveOnly(11).value(), 11);
  EXPECT_EQ(UseMoveOnly(0).error(), Error::kEmpty);
  EXPECT_EQ(Nested(3).value(), 12);
  EXPECT_EQ(Nested(-3).error(), Error::kInvalidArgument);
  EXPECT_EQ(ReturnsPlainError(1), Error::kNotFound);
  EXPECT_EQ(ReturnsPlainError(-1), Error::kInvalidArgument);
}

TEST(Result, TryEvaluatesItsExpressionOnce) {
  int calls = 0;
  auto f = [&]() -> Result<int> {
    const int v = LICHEN_TRY(([&]() -> Result<int> {
      ++calls;
      return 1;
    })());
    return v;
  };
  EXPECT_EQ(f().value(), 1);
  EXPECT_EQ(calls, 1);
}

TEST(Result, TryOnNamedResultCopiesInsteadOfMoving) {
  auto f = []() -> Result<size_t> {
    Result<std::string> named = std::string("kept");
    const std::string copy = LICHEN_TRY(named);
    return copy.size() + named.value().size();  // `named` still holds its value
  };
  EXPECT_EQ(f().value(), 8u);
}

TEST(Result, ErrorNames) {
  EXPECT_STREQ(ErrorName(Error::kNoMemory), "NoMemory");
  EXPECT_STREQ(ErrorName(Error::kInvalidArgument), "InvalidArgument");
  EXPECT_STREQ(ErrorName(Error::kNotFound), "NotFound");
  EXPECT_STREQ(ErrorName(Error::kBusy), "Busy");
  EXPECT_STREQ(ErrorName(Error::kFull), "Full");
  EXPECT_STREQ(ErrorName(Error::kEmpty), "Empty");
  EXPECT_STREQ(ErrorName(Error::kBadState), "BadState");
  EXPECT_STREQ(ErrorName(Error::kMalformed), "Malformed");
  EXPECT_STREQ(ErrorName(Error::kUnsupported), "Unsupported");
  EXPECT_STREQ(ErrorName(Error::kTimedOut), "TimedOut");
  EXPECT_STREQ(ErrorName(Error::kOverflow), "Overflow");
  EXPECT_STREQ(ErrorName(static_cast<Error>(200)), "Unknown");
  static_assert(ErrorName(Error::kFull)[0] == 'F');
}

TEST(Result, ErrorsFormatByName) {
  char buf[64];
  FormatTo(buf, sizeof(buf), "[{}] [{:>8}]", Error::kTimedOut, Error::kBusy);
  EXPECT_STREQ(buf, "[TimedOut] [    Busy]");
}

using ResultDeathTest = ::testing::Test;

TEST(ResultDeathTest, ValueOnErrorAsserts) {
  Result<int> r = Error::kNotFound;
  EXPECT_DEATH((void)r.value(), "Result::value\\(\\) on error NotFound");
  Result<void> v = Error::kFull;
  EXPECT_DEATH(v.value(), "Result::value\\(\\) on error Full");
}

TEST(ResultDeathTest, ErrorOnValueAsserts) {
  Result<int> r = 1;
  EXPECT_DEATH((void)r.error(), "Result::error\\(\\) on a value");
  Result<void> v;
  EXPECT_DEATH((void)v.error(), "Result::error\\(\\) on a success");
}

}  // namespace
}  // namespace lichen
