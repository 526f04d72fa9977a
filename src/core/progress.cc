#include "atlas/progress.h"

namespace atlas {
namespace {

class NullProgressSink final : public ProgressSink {
 public:
  void BeginPhase(std::string_view, std::uint64_t) override {}
  void Advance(std::uint64_t) override {}
  void EndPhase() override {}
  void Note(std::string_view) override {}
};

}  // namespace

ProgressSink* NullProgress() {
  static NullProgressSink sink;
  return &sink;
}

}  // namespace atlas
