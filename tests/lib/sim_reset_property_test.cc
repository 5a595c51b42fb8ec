// Property test of lib/sim_reset.h: whatever order the registrars are built in (static
// initialisation order is the link order, which C++ leaves open), the resets run sorted by
// (stage, name). The reference model is std::sort of the same entries.
#include "lib/sim_reset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/random.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

constexpr int kEntries = 8;

std::vector<int> g_calls;

// One bare function per entry (ResetRegistrar takes a function pointer, no argument).
template <int N>
void Record() {
  g_calls.push_back(N);
}

template <int... N>
constexpr std::array<ResetRegistrar::Fn, sizeof...(N)> MakeFns(std::integer_sequence<int, N...>) {
  return {&Record<N>...};
}
constexpr auto kFns = MakeFns(std::make_integer_sequence<int, kEntries>());

struct Entry {
  std::string name;
  ResetStage stage;
  int id;
};

TEST(SimReset, RunsInStageThenNameOrderWhateverTheConstructionOrder) {
  test::ForEachSeed("sim-reset-order", 200, [](uint64_t seed) {
    Rng rng(seed);
    // Names from a small alphabet, so that prefixes ("a" before "ab") and shared stems occur.
    std::vector<Entry> entries;
    std::vector<std::string> used;
    for (int id = 0; id < kEntries; ++id) {
      std::string name;
      do {
        name.clear();
        const uint64_t length = rng.Range(1, 3);
        for (uint64_t i = 0; i < length; ++i)
          name += static_cast<char>('a' + rng.Below(3));
      } while (std::find(used.begin(), used.end(), name) != used.end());
      used.push_back(name);
      entries.push_back({name, rng.Chance(1, 4) ? ResetStage::kLast : ResetStage::kAny, id});
    }

    ResetList list;
    std::vector<std::unique_ptr<ResetRegistrar>> registrars;
    for (const Entry& e : entries)  // built in a random order: the order entries were drawn
      registrars.push_back(
          std::make_unique<ResetRegistrar>(e.name.c_str(), e.stage, kFns[e.id], list));

    std::vector<Entry> model = entries;
    std::sort(model.begin(), model.end(), [](const Entry& a, const Entry& b) {
      if (a.stage != b.stage) return a.stage < b.stage;
      return a.name < b.name;  // std::string compares bytewise, like the list
    });
    std::vector<int> expected;
    for (const Entry& e : model)
      expected.push_back(e.id);

    g_calls.clear();
    list.RunAll();
    ASSERT_EQ(g_calls, expected) << "seed " << seed;
    // The list, walked, is in the same order.
    std::vector<std::string> walked;
    for (const ResetRegistrar* r = list.first(); r != nullptr; r = r->next())
      walked.push_back(r->name());
    for (size_t i = 0; i < model.size(); ++i)
      ASSERT_EQ(walked[i], model[i].name) << "seed " << seed;
  });
}

TEST(SimReset, ANameRegisteredTwicePanics) {
  ResetList list;
  ResetRegistrar first("trace", ResetStage::kAny, kFns[0], list);
  EXPECT_DEATH(ResetRegistrar("trace", ResetStage::kLast, kFns[1], list),
               "reset 'trace' registered twice");
}

}  // namespace
}  // namespace lichen
