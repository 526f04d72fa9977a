// Positions gathered in ascending order, summarised as runs ("17, 40-41"),
// so a report of millions of positions stays one line and a few bytes: only
// the first kListed runs are kept, the rest are counted.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace atlas {

class PositionRanges {
 public:
  static constexpr std::size_t kListed = 10;

  // REQUIRES: pos greater than every position added before.
  void Add(std::uint64_t pos) {
    const bool extends = count_ > 0 && last_ + 1 == pos;
    count_++;
    last_ = pos;
    if (extends) {
      if (runs_ <= kListed) listed_.back().second = pos;
      return;
    }
    runs_++;
    if (runs_ <= kListed) listed_.emplace_back(pos, pos);
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t runs() const { return runs_; }
  // "position 17", or "3 positions in 2 ranges: 17, 40-41" (then "and N
  // more ranges" past the first kListed).
  std::string Text() const {
    if (count_ == 1) return fmt::format("position {}", last_);
    std::string list;
    for (std::size_t i = 0; i < listed_.size(); ++i) {
      if (i > 0) list += ", ";
      const auto& [a, b] = listed_[i];
      list += a == b ? fmt::format("{}", a) : fmt::format("{}-{}", a, b);
    }
    if (runs_ > listed_.size()) list += fmt::format(" and {} more ranges", runs_ - listed_.size());
    return fmt::format("{} positions in {} range{}: {}", count_, runs_, runs_ == 1 ? "" : "s", list);
  }

 private:
  std::uint64_t count_ = 0;
  std::uint64_t runs_ = 0;
  std::uint64_t last_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> listed_;  // the first kListed runs
};

}  // namespace atlas
