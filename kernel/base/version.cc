#include "kernel/base/version.h"

namespace lichen {

const char kVersion[] = "0.1.0";

}  // namespace lichen
