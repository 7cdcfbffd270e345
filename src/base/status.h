// Errors as values. Every failure carries where it happened (file, byte
// offset, field) so a user can find the bad byte without a debugger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace minnow {

enum class ErrorCode {
  kInvalidArgument,  // caller passed something nonsensical
  kIo,               // open/read/write/mmap failed
  kCorrupt,          // input bytes violate the format
  kUnsupported,      // valid input we deliberately do not handle
  kOutOfRange,       // a number outside its documented bounds
  kResourceLimit,    // a sandbox or size limit was hit
  kInternal,         // a bug in minnow
};

const char* error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  Error&& with_file(std::string file) && { file_ = std::move(file); return std::move(*this); }
  Error&& with_offset(uint64_t offset) && { offset_ = offset; return std::move(*this); }
  Error&& with_field(std::string field) && { field_ = std::move(field); return std::move(*this); }
  Error& with_file(std::string file) & { file_ = std::move(file); return *this; }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  std::optional<uint64_t> offset() const { return offset_; }

  // "<file>: <field>: <message> (offset N)", omitting absent parts.
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string file_;
  std::string field_;
  std::optional<uint64_t> offset_;
};

// Shorthands used at every failure site.
Error invalid_argument(std::string message);
Error corrupt(std::string message);
Error unsupported(std::string message);
Error io_error(std::string message);
Error out_of_range(std::string message);
Error resource_limit(std::string message);

// A value or an Error. Small on purpose: std::expected arrives with C++23.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status success() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

}  // namespace minnow

// Propagate a failed Status/Expected from the current function.
#define MINNOW_TRY(expr)                                  \
  do {                                                    \
    auto minnow_try_result_ = (expr);                     \
    if (!minnow_try_result_.ok()) return std::move(minnow_try_result_).error(); \
  } while (0)

#define MINNOW_CONCAT_INNER(a, b) a##b
#define MINNOW_CONCAT(a, b) MINNOW_CONCAT_INNER(a, b)
// Bind the value of an Expected or propagate its error.
#define MINNOW_ASSIGN_OR_RETURN(lhs, expr)                                      \
  auto MINNOW_CONCAT(minnow_expected_, __LINE__) = (expr);                      \
  if (!MINNOW_CONCAT(minnow_expected_, __LINE__).ok())                          \
    return std::move(MINNOW_CONCAT(minnow_expected_, __LINE__)).error();        \
  lhs = std::move(MINNOW_CONCAT(minnow_expected_, __LINE__)).value()
