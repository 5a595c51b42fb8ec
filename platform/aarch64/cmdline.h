// Kernel command line helpers: "key=value" words separated by white space (/chosen/bootargs).
// Portable (no aarch64 code), so the core and host tests can use them too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lichen {

// The value of the last "key=value" word (or "" for a bare "key" word); nullopt if absent.
std::optional<std::string_view> CmdlineOption(std::string_view cmdline, std::string_view key);

// Parses a decimal (or 0x-prefixed hexadecimal) unsigned number; nullopt if malformed or
// out of range.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace lichen
