// Status and Result<T>: how every fallible call in atlas reports failure.
//
// A Status means "could not do what was asked" (an I/O error, a bad argument,
// a locked manifest). It is never used for problems found *in* the array:
// those are Findings (atlas/finding.h) and the run goes on.
//
// An OK Status holds no allocation, so returning it on the hot path is free
// (leveldb's design). An error carries a Code, the errno it came from (if
// any) and a message to which each layer prepends its context once:
//   "scrub: d1 block 118234: pread /mnt/disk1/x.mkv @ 30988713984: Input/output error"
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace atlas {

enum class Code : std::uint8_t {
  kOk,
  kNotFound,            // a file, key or disk that should exist does not
  kCorruption,          // stored data failed its own checks (manifest, index)
  kIOError,             // the OS returned an error other than the ones below
  kNoSpace,             // ENOSPC / EDQUOT
  kInvalidArgument,     // bad usage or configuration: exit code 2
  kFailedPrecondition,  // a safety guard refused the operation: exit code 3
  kBusy,                // the manifest is locked by another run: exit code 3
  kCancelled,           // interrupted by SIGINT/SIGTERM after a clean stop
  kInternal,            // a bug: an invariant did not hold
};

// Returns a short lower-case name for `code`, e.g. "io error".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, 0, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, 0, msg); }
  static Status IOError(std::string_view msg, int err = 0) { return Status(Code::kIOError, err, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, 0, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, 0, msg);
  }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(Code::kFailedPrecondition, 0, msg);
  }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, 0, msg); }
  static Status Cancelled(std::string_view msg) { return Status(Code::kCancelled, 0, msg); }
  static Status Internal(std::string_view msg) { return Status(Code::kInternal, 0, msg); }

  // Maps an errno to a Code (ENOENT/ENOTDIR -> kNotFound, ENOSPC/EDQUOT -> kNoSpace,
  // everything else -> kIOError) and keeps the errno. The message becomes
  // "<what>: <strerror(err)>".
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  // The errno this error came from, or 0.
  int sys_errno() const { return rep_ ? rep_->sys_errno : 0; }
  // The message without the code name; empty when OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->msg) : std::string_view(); }
  // "OK", or the message (the code is not repeated: messages say what happened).
  std::string ToString() const;

  // Returns a copy whose message is "<outer>: <message>". OK stays OK.
  Status WithContext(std::string_view outer) const;

  // Marks a deliberately dropped status; greppable.
  void IgnoreError() const {}

 private:
  struct Rep {
    Code code;
    int sys_errno;
    std::string msg;
  };
  Status(Code code, int err, std::string_view msg);
  std::unique_ptr<Rep> rep_;
};

// Either a value or a non-OK Status. Constructing a Result from an OK Status is
// a bug and yields kInternal.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT(implicit)
    if (std::get<1>(v_).ok()) v_.template emplace<1>(Status::Internal("Result from OK status"));
  }
  // Allows `return Status::NotFound(...)` and `return value` alike, and
  // conversions such as unique_ptr<Derived> -> unique_ptr<Base>.
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace atlas

#define ATLAS_CONCAT_INNER_(a, b) a##b
#define ATLAS_CONCAT_(a, b) ATLAS_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the calling function if it is not OK.
#define ATLAS_RETURN_IF_ERROR(expr)                                     \
  do {                                                                  \
    ::atlas::Status atlas_status_ = ::atlas::internal::AsStatus(expr);  \
    if (!atlas_status_.ok()) return atlas_status_;                      \
  } while (0)

// `ATLAS_ASSIGN_OR_RETURN(auto x, F())` declares x from F()'s value, or returns
// F()'s Status from the calling function.
#define ATLAS_ASSIGN_OR_RETURN(lhs, expr) \
  ATLAS_ASSIGN_OR_RETURN_IMPL_(ATLAS_CONCAT_(atlas_result_, __LINE__), lhs, expr)
#define ATLAS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
