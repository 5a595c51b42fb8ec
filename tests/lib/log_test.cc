// Unit tests of lib/log.h with every level compiled in.
#undef LICHEN_LOG_LEVEL
#define LICHEN_LOG_LEVEL 5
#include "lib/log.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace lichen {
namespace {

struct Line {
  int level;
  std::string text;
  bool terminated;
};
std::vector<Line> g_lines;

void CaptureWriter(int level, const char* line, size_t len) {
  g_lines.push_back({level, std::string(line, len), line[len] == '\0'});
}

// Counts how often it is formatted, to show that dropped lines are not formatted.
struct Expensive {
  static int formatted;
};
int Expensive::formatted = 0;
void FormatValue(Sink& out, const Expensive&, const FormatSpec&) {
  ++Expensive::formatted;
  out.Write("expensive", 9);
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_lines.clear();
    SetLogWriter(&CaptureWriter);
  }
  void TearDown() override { SetLogWriter(nullptr); }
};

TEST_F(LogTest, EveryLevelEmitsOneWholeLine) {
  LICHEN_LOG_ERROR("e {}", 1);
  LICHEN_LOG_WARN("w {}", 2);
  LICHEN_LOG_INFO("i {}", 3);
  LICHEN_LOG_DEBUG("d {}", 4);
  LICHEN_LOG_TRACE("t {}", 5);
  LICHEN_LOG_INFO("no arguments");
  ASSERT_EQ(g_lines.size(), 6u);
  const char* expected[] = {"e 1", "w 2", "i 3", "d 4", "t 5"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(g_lines[i].level, i + 1);
    EXPECT_EQ(g_lines[i].text, expected[i]);
    EXPECT_TRUE(g_lines[i].terminated);
  }
  EXPECT_EQ(g_lines[5].text, "no arguments");
}

TEST_F(LogTest, LongLinesAreCutAndMarked) {
  const std::string long_text(600, 'a');
  LICHEN_LOG_INFO("{}", long_text.c_str());
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_EQ(g_lines[0].text.size(), kLogLineMax - 1);
  EXPECT_EQ(g_lines[0].text, std::string(kLogLineMax - 4, 'a') + "...");
  // A line that fits exactly is not marked.
  const std::string exact(kLogLineMax - 1, 'b');
  LICHEN_LOG_INFO("{}", exact.c_str());
  EXPECT_EQ(g_lines[1].text, exact);
}

TEST_F(LogTest, WithoutWriterLinesAreDroppedUnformatted) {
  SetLogWriter(nullptr);
  Expensive::formatted = 0;
  LICHEN_LOG_ERROR("{}", Expensive{});
  EXPECT_EQ(Expensive::formatted, 0);
  EXPECT_TRUE(g_lines.empty());
  SetLogWriter(&CaptureWriter);
  LICHEN_LOG_ERROR("{}", Expensive{});
  EXPECT_EQ(Expensive::formatted, 1);
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_EQ(g_lines[0].text, "expensive");
}

TEST(LogLevelTag, NamesLevels) {
  EXPECT_STREQ(LogLevelTag(kLogError), "E");
  EXPECT_STREQ(LogLevelTag(kLogWarn), "W");
  EXPECT_STREQ(LogLevelTag(kLogInfo), "I");
  EXPECT_STREQ(LogLevelTag(kLogDebug), "D");
  EXPECT_STREQ(LogLevelTag(kLogTrace), "T");
  EXPECT_STREQ(LogLevelTag(0), "?");
  EXPECT_STREQ(LogLevelTag(6), "?");
}

}  // namespace
}  // namespace lichen
