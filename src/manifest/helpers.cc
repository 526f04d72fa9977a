// Small reads every command makes of the manifest, through its public
// interface only: open it if there is one, count dirty positions, read a
// number from the meta table.
#include <charconv>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "atlas/manifest.h"

namespace atlas {

Result<std::optional<std::int64_t>> GetMetaInt(Manifest* m, std::string_view key) {
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, m->GetMeta(key));
  if (!v || v->empty()) return std::optional<std::int64_t>();  // absent or cleared
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return Status::Corruption(fmt::format("manifest meta value {} is not a number", key));
  }
  return std::optional<std::int64_t>(out);
}

Result<std::unique_ptr<Manifest>> OpenManifestIfExists(const Config& config) {
  ManifestOptions ro;
  ro.read_only = true;
  ro.copy_dirs = config.manifest_copies;
  Result<std::unique_ptr<Manifest>> opened = OpenManifest(config.manifest, ro);
  if (!opened.ok() && opened.status().code() == Code::kNotFound) return std::unique_ptr<Manifest>();
  return opened;
}

Result<std::uint64_t> CountDirtyPositions(Manifest* m) {
  std::uint64_t n = 0;
  std::uint64_t last = ~0ull;
  std::unique_ptr<Cursor<DirtyEntry>> c = m->Dirty(0);
  for (; c->Valid(); c->Next()) {
    if (c->value().pos != last) ++n;
    last = c->value().pos;
  }
  ATLAS_RETURN_IF_ERROR(c->status());
  return n;
}

}  // namespace atlas

namespace atlas {

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kDirectory:
      return "directory";
    case EntryKind::kSymlink:
      return "symlink";
    case EntryKind::kHardLink:
      return "hard link";
    case EntryKind::kFifo:
      return "FIFO";
    case EntryKind::kSocket:
      return "socket";
    case EntryKind::kCharDevice:
      return "character device";
    case EntryKind::kBlockDevice:
      return "block device";
  }
  return "entry";
}

}  // namespace atlas
