// Kernel command line helpers: "key=value" words separated by white space (/chosen/bootargs).
// Portable (no aarch64 code), so the core and host tests can use them too.
//
// As on Linux, a word "--" ends the kernel's options: the words after it are the arguments of
// the init program (init=PATH), which argv[0] = PATH precedes: "init=/bin/usertest -- -v 3"
// runs /bin/usertest with argv {"/bin/usertest", "-v", "3"}.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lichen {

// The value of the last "key=value" word (or "" for a bare "key" word) before any "--" word;
// nullopt if absent.
std::optional<std::string_view> CmdlineOption(std::string_view cmdline, std::string_view key);

// The words after the first "--" word, in order: stores the first `max` of them in `words`
// and returns how many there are (more than `max` means some did not fit).
size_t CmdlineInitArgs(std::string_view cmdline, std::string_view* words, size_t max);

// Parses a decimal (or 0x-prefixed hexadecimal) unsigned number; nullopt if malformed or
// out of range.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace lichen
