// Unit tests of lib/assert.h (with LICHEN_DEBUG_CHECKS as the build sets it) and PanicAt.
#include "lib/assert.h"

#include <gtest/gtest.h>

#include <csetjmp>
#include <csignal>
#include <cstring>
#include <string>

namespace lichen {
namespace {

// Captures one panic in-process: a handler that records its arguments and longjmps back to
// CatchPanic (the frames it skips hold only trivially destructible objects).
struct CapturedPanic {
  bool panicked = false;
  std::string file;
  int line = 0;
  std::string message;
  int calls = 0;
};
CapturedPanic g_captured;
std::jmp_buf g_jump;

void RecordingHandler(const char* file, int line, const char* message) {
  g_captured.panicked = true;
  g_captured.file = file;
  g_captured.line = line;
  g_captured.message = message;
  ++g_captured.calls;
  std::longjmp(g_jump, 1);
}

// The handler the test binary installs (panic_handler.cc) prints and returns; restore it after.
void PrintingHandler(const char* file, int line, const char* message) {
  std::fprintf(stderr, "PANIC at %s:%d: %s\n", file, line, message);
}

template <typename F>
CapturedPanic CatchPanic(F body) {
  g_captured = CapturedPanic{};
  SetPanicHandler(&RecordingHandler);
  if (setjmp(g_jump) == 0) body();
  SetPanicHandler(&PrintingHandler);
  return g_captured;
}

TEST(Assert, PassingAssertionDoesNothingAndEvaluatesOnce) {
  int evaluations = 0;
  const CapturedPanic p = CatchPanic([&] { LICHEN_ASSERT(++evaluations == 1, "never {}", 1); });
  EXPECT_FALSE(p.panicked);
  EXPECT_EQ(evaluations, 1);
}

TEST(Assert, FailureReportsFileLineAndCondition) {
  int line = 0;
  const CapturedPanic p = CatchPanic([&] {
    line = __LINE__ + 1;
    LICHEN_ASSERT(1 + 1 == 3);
  });
  ASSERT_TRUE(p.panicked);
  EXPECT_EQ(p.calls, 1);
  EXPECT_EQ(p.line, line);
  EXPECT_NE(p.file.find("assert_test.cc"), std::string::npos) << p.file;
  EXPECT_EQ(p.message, "assertion failed: 1 + 1 == 3");
}

TEST(Assert, FailureWithFormattedMessage) {
  const int x = 5;
  const CapturedPanic p = CatchPanic([&] { LICHEN_ASSERT(x == 2, "x was {} ({:#x})", x, x); });
  ASSERT_TRUE(p.panicked);
  EXPECT_EQ(p.message, "assertion failed: x == 2: x was 5 (0x5)");
}

TEST(Assert, PanicFormats) {
  const CapturedPanic p = CatchPanic([] { LICHEN_PANIC("boom {} {}", 7, "now"); });
  ASSERT_TRUE(p.panicked);
  EXPECT_EQ(p.message, "boom 7 now");
}

TEST(Assert, LongMessagesAreTruncatedToTheStackBuffer) {
  const std::string long_text(1000, 'z');
  const CapturedPanic p = CatchPanic([&] { LICHEN_PANIC("{}", long_text.c_str()); });
  ASSERT_TRUE(p.panicked);
  EXPECT_EQ(p.message, std::string(kPanicMessageMax - 1, 'z'));
}

TEST(Assert, AssertIsASingleStatement) {
  // Must nest in an unbraced if/else without capturing the else.
  bool took_else = false;
  const CapturedPanic p = CatchPanic([&] {
    if (false)
      LICHEN_ASSERT(false);
    else
      took_else = true;
  });
  EXPECT_FALSE(p.panicked);
  EXPECT_TRUE(took_else);
}

TEST(Assert, DebugAssertFollowsTheBuild) {
  int evaluations = 0;
  const CapturedPanic p = CatchPanic([&] { LICHEN_DEBUG_ASSERT(++evaluations == 0, "dbg"); });
#if defined(LICHEN_DEBUG_CHECKS)
  EXPECT_TRUE(p.panicked);
  EXPECT_EQ(p.message, "assertion failed: ++evaluations == 0: dbg");
  EXPECT_EQ(evaluations, 1);
#else
  EXPECT_FALSE(p.panicked);
  EXPECT_EQ(evaluations, 0);
#endif
}

using AssertDeathTest = ::testing::Test;

TEST(AssertDeathTest, HandlerThatReturnsEndsInATrap) {
  // The binary's handler prints and returns; PanicAt must then trap.
  EXPECT_EXIT(LICHEN_ASSERT(2 < 1, "ordering {}", "broken"), ::testing::KilledBySignal(SIGILL),
              "PANIC at .*assert_test.cc:[0-9]+: assertion failed: 2 < 1: ordering broken");
}

TEST(AssertDeathTest, NoHandlerEndsInATrap) {
  EXPECT_EXIT(
      {
        SetPanicHandler(nullptr);
        PanicAt("file.cc", 1, "no handler");
      },
      ::testing::KilledBySignal(SIGILL), "");
}

}  // namespace
}  // namespace lichen
