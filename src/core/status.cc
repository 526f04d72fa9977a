#include "atlas/status.h"

#include <cerrno>
#include <cstring>

namespace atlas {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kNotFound: return "not found";
    case Code::kCorruption: return "corruption";
    case Code::kIOError: return "io error";
    case Code::kNoSpace: return "no space";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kBusy: return "busy";
    case Code::kCancelled: return "cancelled";
    case Code::kInternal: return "internal error";
  }
  return "unknown";
}

Status::Status(Code code, int err, std::string_view msg)
    : rep_(std::make_unique<Rep>(Rep{code, err, std::string(msg)})) {}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  Code code = Code::kIOError;
  if (err == ENOENT || err == ENOTDIR) code = Code::kNotFound;
  if (err == ENOSPC || err == EDQUOT) code = Code::kNoSpace;
  return Status(code, err, msg);
}

std::string Status::ToString() const { return ok() ? std::string("OK") : rep_->msg; }

Status Status::WithContext(std::string_view outer) const {
  if (ok()) return Status();
  std::string msg(outer);
  msg += ": ";
  msg += rep_->msg;
  return Status(rep_->code, rep_->sys_errno, msg);
}

}  // namespace atlas
