// Small text helpers shared by the config parser, the starter config writer
// and the unit parsers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace atlas {

// `text` as a TOML basic string, double quotes included: '"' and '\' are
// escaped, control characters written as \b \t \n \f \r or \uXXXX. The same
// form quotes user input in error messages, so what a message shows can be
// pasted back into the file.
std::string QuoteString(std::string_view text);

// A key as TOML would need it written: bare when it is only A-Z a-z 0-9 _ -
// (and not empty), else quoted.
std::string QuoteKey(std::string_view key);

// The optimal string alignment distance between `a` and `b`: insertions,
// deletions, substitutions and swaps of two neighbours each cost 1. Used for
// "did you mean" suggestions; keys are short, so O(|a|*|b|) is fine.
std::size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace atlas
