#include "base/status.h"

namespace minnow {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kCorrupt: return "corrupt input";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kOutOfRange: return "out of range";
    case ErrorCode::kResourceLimit: return "resource limit";
    case ErrorCode::kInternal: return "internal error";
  }
  return "error";
}

std::string Error::to_string() const {
  std::string out;
  if (!file_.empty()) out += file_ + ": ";
  if (!field_.empty()) out += field_ + ": ";
  out += message_;
  if (offset_) out += " (offset " + std::to_string(*offset_) + ")";
  return out;
}

Error invalid_argument(std::string m) { return Error(ErrorCode::kInvalidArgument, std::move(m)); }
Error corrupt(std::string m) { return Error(ErrorCode::kCorrupt, std::move(m)); }
Error unsupported(std::string m) { return Error(ErrorCode::kUnsupported, std::move(m)); }
Error io_error(std::string m) { return Error(ErrorCode::kIo, std::move(m)); }
Error out_of_range(std::string m) { return Error(ErrorCode::kOutOfRange, std::move(m)); }
Error resource_limit(std::string m) { return Error(ErrorCode::kResourceLimit, std::move(m)); }

}  // namespace minnow
