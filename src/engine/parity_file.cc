#include "engine/parity_file.h"

#include <cstring>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "engine/array.h"

namespace atlas {

ParityFile::ParityFile(FileSystem* fs, const ArrayParity& level, std::uint32_t block_size)
    : fs_(fs), level_(level), bs_(block_size) {}

const std::string& ParityFile::name() const { return level_.name; }
const std::filesystem::path& ParityFile::path() const { return level_.path; }

void ParityFile::Watch(DiskMonitor* monitor) {
  monitor_ = monitor;
  if (monitor_ != nullptr) watch_ = monitor_->Index(level_.name);
}

Status ParityFile::OpenForRead() {
  if (open_tried_) return open_status_;
  open_tried_ = true;
  Result<std::unique_ptr<RandomAccessFile>> f = fs_->OpenForRead(level_.path);
  if (f.ok()) {
    reader_ = std::move(f).value();
  } else {
    open_status_ = f.status();
  }
  return open_status_;
}

Status ParityFile::OpenForWrite() {
  if (writer_) return Status::Ok();
  ATLAS_ASSIGN_OR_RETURN(writer_, fs_->OpenForWrite(level_.path, OpenMode::kCreate, 0600));
  return Status::Ok();
}

Result<std::size_t> ParityFile::ReadBlock(std::uint64_t pos, std::byte* buf) const {
  if (monitor_ != nullptr) monitor_->MarkUsed(watch_);
  ATLAS_ASSIGN_OR_RETURN(std::size_t n, reader_->ReadAt(Offset(pos), std::span(buf, bs_)));
  if (n < bs_) std::memset(buf + n, 0, bs_ - n);  // past the end: zeros
  return n;
}

Status ParityFile::WriteBlock(std::uint64_t pos, const std::byte* block) {
  if (monitor_ != nullptr) monitor_->MarkUsed(watch_);
  return writer_->WriteAt(Offset(pos), std::span<const std::byte>(block, bs_))
      .WithContext(fmt::format("write parity {} at position {}", level_.name, pos));
}

Status ParityFile::SetLength(std::uint64_t positions, std::string_view why) {
  return SetLengthBytes(Offset(positions), why);
}

Status ParityFile::SetLengthBytes(std::uint64_t bytes, std::string_view why) {
  return writer_->Truncate(bytes).WithContext(fmt::format("{} parity {}", why, level_.path.string()));
}

Status ParityFile::Sync() {
  if (!writer_) return Status::Ok();
  return writer_->Sync().WithContext("sync parity " + level_.name);
}

Finding ParityFile::ReadErrorFinding(std::uint64_t pos, const Status& error) const {
  return ReadErrorFinding(level_, bs_, pos, error);
}

Finding ParityFile::ReadErrorFinding(const ArrayParity& level, std::uint32_t block_size, std::uint64_t pos,
                                     const Status& error) {
  const std::uint64_t offset = pos * block_size;
  Finding f = MakeFinding(FindingKind::kReadError, level.name, "",
                          fmt::format("read error in parity file {} at byte {}: {}", level.path.string(), offset,
                                      error.ToString()));
  f.offset = offset;
  return f;
}

}  // namespace atlas
