#include "lib/sim_reset.h"

#if defined(LICHEN_HOST)

#include "lib/assert.h"

namespace lichen {

namespace {

// Constant-initialised (constexpr constructor): ready before any dynamic initialisation.
constinit ResetList g_resets;

// <0, 0, >0 as a's name sorts before, with or after b's (bytewise: the same on every host).
int CompareNames(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return static_cast<int>(static_cast<unsigned char>(*a)) -
         static_cast<int>(static_cast<unsigned char>(*b));
}

bool Before(const ResetRegistrar& a, const ResetRegistrar& b) {
  if (a.stage() != b.stage()) return a.stage() < b.stage();
  return CompareNames(a.name(), b.name()) < 0;
}

}  // namespace

ResetRegistrar::ResetRegistrar(const char* name, ResetStage stage, Fn reset)
    : ResetRegistrar(name, stage, reset, g_resets) {}

ResetRegistrar::ResetRegistrar(const char* name, ResetStage stage, Fn reset, ResetList& list)
    : name_(name), stage_(stage), reset_(reset) {
  list.Insert(*this);
}

void ResetList::Insert(ResetRegistrar& registrar) {
  for (const ResetRegistrar* r = head_; r != nullptr; r = r->next_) {
    LICHEN_ASSERT(CompareNames(r->name_, registrar.name_) != 0, "reset '{}' registered twice",
                  registrar.name_);
  }
  ResetRegistrar** link = &head_;
  while (*link != nullptr && !Before(registrar, **link))
    link = &(*link)->next_;
  registrar.next_ = *link;
  *link = &registrar;
}

void ResetList::RunAll() const {
  for (const ResetRegistrar* r = head_; r != nullptr; r = r->next_)
    r->reset_();
}

ResetList& SimulationResets() {
  return g_resets;
}

void ResetAllForSimulation() {
  g_resets.RunAll();
}

}  // namespace lichen

#endif  // LICHEN_HOST
