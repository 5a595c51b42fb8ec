// lib/log.h with LICHEN_LOG_LEVEL 2: info, debug and trace calls compile out, their arguments
// type-checked but never evaluated.
#undef LICHEN_LOG_LEVEL
#define LICHEN_LOG_LEVEL 2
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/log.h"

namespace lichen {
namespace {

std::vector<std::string> g_lines;

void CaptureWriter(int, const char* line, size_t len) {
  g_lines.emplace_back(line, len);
}

TEST(LogCompiledOut, LevelsAboveTheLimitAreNotEvaluated) {
  g_lines.clear();
  SetLogWriter(&CaptureWriter);
  int evaluations = 0;
  LICHEN_LOG_ERROR("e {}", ++evaluations);
  LICHEN_LOG_WARN("w {}", ++evaluations);
  LICHEN_LOG_INFO("i {}", ++evaluations);
  LICHEN_LOG_DEBUG("d {}", ++evaluations);
  LICHEN_LOG_TRACE("t {}", ++evaluations);
  SetLogWriter(nullptr);
  EXPECT_EQ(evaluations, 2);
  EXPECT_EQ(g_lines, (std::vector<std::string>{"e 1", "w 2"}));
}

TEST(LogCompiledOut, SingleStatementInUnbracedIf) {
  bool took_else = false;
  if (g_lines.size() > 1000)
    LICHEN_LOG_TRACE("never");
  else
    took_else = true;
  EXPECT_TRUE(took_else);
}

}  // namespace
}  // namespace lichen
