#include "engine/read_layout.h"

#include <algorithm>
#include <optional>
#include <thread>

namespace atlas {

bool ReadsWholeStripes(const Config& config, const ArrayView& array) {
  switch (config.read_layout) {
    case ReadLayout::kPerDisk:
      return false;
    case ReadLayout::kWholeStripes:
      return true;
    case ReadLayout::kAuto:
      break;
  }
  if (config.bandwidth_limit > 0) return false;
  auto solid = [](const std::optional<FsIdentity>& id) { return id && id->rotational == false; };
  return std::all_of(array.data.begin(), array.data.end(), [&](const ArrayDataDisk& d) { return solid(d.identity); }) &&
         std::all_of(array.parity.begin(), array.parity.end(), [&](const ArrayParity& p) { return solid(p.identity); });
}

std::size_t WholeStripeWorkers(const Config& config) {
  if (config.io_threads > 0) return static_cast<std::size_t>(config.io_threads);
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace atlas
