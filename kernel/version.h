// Lichen's version, printed at boot and by the host demonstration.
#pragma once

namespace lichen {

extern const char kVersion[];

}  // namespace lichen
