// LICHEN_DEBUG_ASSERT in a build without LICHEN_DEBUG_CHECKS: compiled (so its arguments must
// type-check) but never evaluated. This file undefines the macro for itself only and uses
// nothing else from lib/, so no inline function differs between translation units.
#undef LICHEN_DEBUG_CHECKS
#include "lib/assert.h"

#include <gtest/gtest.h>

namespace lichen {
namespace {

int g_evaluations = 0;
int CountEvaluation() {
  return ++g_evaluations;
}

TEST(DebugAssertDisabled, ArgumentsAreNotEvaluated) {
  g_evaluations = 0;
  LICHEN_DEBUG_ASSERT(CountEvaluation() < 0);
  LICHEN_DEBUG_ASSERT(CountEvaluation() < 0, "with a message {}", CountEvaluation());
  EXPECT_EQ(g_evaluations, 0);
}

TEST(DebugAssertDisabled, IsASingleStatement) {
  bool took_else = false;
  if (g_evaluations > 1000)
    LICHEN_DEBUG_ASSERT(false);
  else
    took_else = true;
  EXPECT_TRUE(took_else);
}

}  // namespace
}  // namespace lichen
