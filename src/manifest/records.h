// Key builders and value codecs for every manifest record (docs/FORMAT.md).
#pragma once

#include <string>
#include <string_view>

#include "atlas/manifest.h"
#include "atlas/status.h"

namespace atlas::records {

// One-byte key prefixes; each names a table of docs/FORMAT.md.
inline constexpr char kMeta = 'm';
inline constexpr char kDisk = 'd';
inline constexpr char kFile = 'f';
inline constexpr char kFileId = 'i';
inline constexpr char kInode = 'n';
inline constexpr char kBlock = 'b';
inline constexpr char kDirty = 'x';
inline constexpr char kFree = 'z';
inline constexpr char kDeletedContent = 'y';
inline constexpr char kRun = 'r';
inline constexpr char kFinding = 'g';
inline constexpr char kAlertState = 'a';
inline constexpr char kCoverage = 'c';

// The coverage summary counts synced blocks by the minute of their
// verified_ns (kCoverageBucketNs, docs/FORMAT.md "Coverage summary"). This
// is the bucket of a verification time (floor division, so negative times
// too).
std::int64_t CoverageBucketOf(std::int64_t verified_ns);
inline constexpr char kSmart = 's';
inline constexpr char kParityHash = 'p';
inline constexpr char kOutsideHost = 'o';
inline constexpr char kEntry = 'e';

// Values of the file, file-id, block, disk, free-extent, run and finding
// tables start with this version byte; meta values are decimal text, and the
// inode, dirty and moved-content tables carry their data in the key
// (docs/FORMAT.md).
inline constexpr char kValueVersion = 1;
// File and disk values from schema 4 on: version 1's fields, then the new
// ones (docs/FORMAT.md); version 1 values are still read.
inline constexpr char kValueVersion2 = 2;

std::string MetaKey(std::string_view key);
std::string DiskKey(std::string_view name);
std::string FileKey(std::uint16_t slot, std::string_view path);
std::string FilePrefix(std::uint16_t slot);
std::string EntryKey(std::uint16_t slot, std::string_view path);
std::string EntryPrefix(std::uint16_t slot);
std::string FileIdKey(std::uint64_t file_id);
std::string InodeKey(std::uint16_t slot, std::uint64_t inode, std::string_view path);
std::string InodePrefix(std::uint16_t slot, std::uint64_t inode);
std::string BlockKey(std::uint16_t slot, std::uint64_t pos);
std::string BlockPrefix(std::uint16_t slot);
std::string DirtyKey(std::uint64_t pos, std::uint16_t slot);
std::string ParityHashKey(std::uint64_t pos);
std::string FreeKey(std::uint16_t slot, std::uint64_t start);
std::string FreePrefix(std::uint16_t slot);
std::string DeletedContentKey(const Hash128& content);
std::string RunKey(std::int64_t start_ns, std::string_view command);
std::string FindingKey(const Finding& f);
std::string AlertStateKey(std::string_view fingerprint);
// 'c' then the bucket number with its sign bit flipped, big-endian, so that
// key order is numeric order for negative buckets too.
std::string CoverageKey(std::int64_t bucket);
std::int64_t DecodeCoverageKey(std::string_view key);
// 's' disk 0x00 fixed64(time_ns); SmartPrefix is 's' disk 0x00.
std::string SmartKey(std::string_view disk, std::int64_t time_ns);
std::string SmartPrefix(std::string_view disk);
// 'o' host name.
std::string OutsideHostKey(std::string_view host);

std::string EncodeDisk(const DiskRecord& d);
Status DecodeDisk(std::string_view name, std::string_view value, DiskRecord* d);
// The key carries slot and path; the value the rest.
std::string EncodeFile(const FileRecord& f);
Status DecodeFile(std::string_view key, std::string_view value, FileRecord* f);
// The key carries slot and path; the value the rest.
std::string EncodeEntry(const EntryRecord& e);
Status DecodeEntry(std::string_view key, std::string_view value, EntryRecord* e);
std::string EncodeFileId(std::uint16_t slot, std::string_view path);
Status DecodeFileId(std::string_view value, std::uint16_t* slot, std::string* path);
std::string EncodeBlock(const BlockRecord& b);
Status DecodeBlock(std::string_view key, std::string_view value, BlockRecord* b);
std::string EncodeParityHash(const ParityHashRecord& p);
Status DecodeParityHash(std::string_view key, std::string_view value, ParityHashRecord* p);
std::string EncodeFinding(const StoredFinding& f);
Status DecodeFinding(std::string_view value, StoredFinding* f);
std::string EncodeAlertState(const AlertStateRecord& a);
// The key carries the fingerprint.
Status DecodeAlertState(std::string_view key, std::string_view value, AlertStateRecord* a);
std::string EncodeRun(const RunRecord& r);
Status DecodeRun(std::string_view value, RunRecord* r);
// The key carries disk and time; the value the rest.
std::string EncodeSmart(const SmartRecord& s);
Status DecodeSmart(std::string_view key, std::string_view value, SmartRecord* s);
// The key carries the host name; the value the rest.
std::string EncodeOutsideHost(const OutsideHostRecord& o);
Status DecodeOutsideHost(std::string_view key, std::string_view value, OutsideHostRecord* o);

}  // namespace atlas::records
