#include "kernel/sched/config.h"

#include "lib/sim_reset.h"

namespace lichen::sched {

namespace {
Config g_config;
}  // namespace

const Config& config() {
  return g_config;
}

void Configure(const Config& config) {
  g_config = config;
}

#if defined(LICHEN_HOST)
namespace {
void ResetConfig() {
  g_config = Config{};
}
const ResetRegistrar g_reset_config("sched.config", ResetStage::kAny, &ResetConfig);
}  // namespace
#endif

const char* PlacementName(Placement placement) {
  switch (placement) {
    case Placement::kRoundRobin:
      return "round-robin";
    case Placement::kLocalFirst:
      return "local-first";
    case Placement::kLeastLoaded:
      return "least-loaded";
  }
  return "?";
}

}  // namespace lichen::sched
