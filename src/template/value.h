// The values a chat template computes with. They mirror the Python objects
// Jinja would see: none, bool, int, float, str, list/tuple, dict (insertion
// ordered), callables (macros, builtins, bound methods), namespace() objects,
// plus Jinja's Undefined. Containers are shared and immutable (Hugging Face
// renders with ImmutableSandboxedEnvironment), so copying a Value is cheap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace minnow::tmpl {

class Value;
class Interpreter;
struct SourcePos;

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;  // only changes how str() prints it: (a, b) vs [a, b]
  // Non-null for what Jinja gives as a Python generator or iterator (select,
  // map, items, ...): always truthy, no len(), not subscriptable, not JSON.
  const char* iterator_name = nullptr;
  uint32_t depth = 1;     // nesting depth, bounded so printing cannot overflow the stack
};

struct DictData {
  std::vector<std::pair<Value, Value>> entries;  // insertion order, unique keys
  uint32_t depth = 1;

  const Value* find(const Value& key) const;
  // Replaces the value of an equal key in place, or appends.
  void insert_or_assign(Value key, Value value);

 private:
  // String keys -> position in entries, so look-ups in big JSON objects stay
  // O(1). The views point into the keys' shared, immutable strings.
  std::unordered_map<std::string_view, size_t> string_index_;
};

// namespace(): the one mutable object templates may change ({% set ns.x = ... %}).
struct NamespaceData {
  DictData attrs;
};

// The `loop` variable of one iteration of a {% for %}.
struct LoopData {
  std::shared_ptr<const std::vector<Value>> items;  // shared by all iterations
  size_t index = 0;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interpreter& interp, CallArgs& args, const SourcePos& pos) const = 0;
  virtual std::string describe() const = 0;  // for str() and error messages
};

enum class ValueKind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable, kLoop };

class Value {
 public:
  Value() = default;  // Undefined
  static Value none() { return Value(Storage(std::in_place_index<1>, NoneTag{})); }
  static Value boolean(bool b) { return Value(Storage(std::in_place_index<2>, b)); }
  static Value integer(int64_t i) { return Value(Storage(std::in_place_index<3>, i)); }
  static Value number(double d) { return Value(Storage(std::in_place_index<4>, d)); }
  static Value string(std::string s);
  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value iterator(std::vector<Value> items, const char* python_type_name);
  static Value dict(std::vector<std::pair<Value, Value>> entries);  // later duplicates win
  static Value namespace_object(std::shared_ptr<NamespaceData> ns);
  static Value callable(std::shared_ptr<const Callable> fn);
  static Value loop(std::shared_ptr<const LoopData> loop);

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is_undefined() const { return kind() == ValueKind::kUndefined; }
  bool is_none() const { return kind() == ValueKind::kNone; }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_int() const { return kind() == ValueKind::kInt; }
  bool is_float() const { return kind() == ValueKind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is an int
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_list() const { return kind() == ValueKind::kList; }
  bool is_iterator() const { return is_list() && as_list().iterator_name != nullptr; }
  bool is_sequence() const { return is_list() && as_list().iterator_name == nullptr; }  // list or tuple
  bool is_dict() const { return kind() == ValueKind::kDict; }
  bool is_namespace() const { return kind() == ValueKind::kNamespace; }
  bool is_callable() const { return kind() == ValueKind::kCallable; }
  bool is_loop() const { return kind() == ValueKind::kLoop; }

  bool as_bool() const { return std::get<2>(v_); }
  int64_t as_int() const { return is_bool() ? int64_t(as_bool()) : std::get<3>(v_); }
  double as_double() const;  // int, bool or float
  const std::string& as_string() const { return *std::get<5>(v_); }
  const ListData& as_list() const { return *std::get<6>(v_); }
  const DictData& as_dict() const { return *std::get<7>(v_); }
  NamespaceData& as_namespace() const { return *std::get<8>(v_); }
  const Callable& as_callable() const { return *std::get<9>(v_); }
  const LoopData& as_loop() const { return *std::get<10>(v_); }
  // The items of a list, sharing ownership with it (no copy).
  std::shared_ptr<const std::vector<Value>> shared_list_items() const;

  // Python truthiness; Undefined is false.
  bool truthy() const;
  // Nesting depth of containers (1 for scalars).
  uint32_t depth() const;

 private:
  struct NoneTag {};
  using Storage = std::variant<std::monostate, NoneTag, bool, int64_t, double,
                               std::shared_ptr<const std::string>, std::shared_ptr<const ListData>,
                               std::shared_ptr<const DictData>, std::shared_ptr<NamespaceData>,
                               std::shared_ptr<const Callable>, std::shared_ptr<const LoopData>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

// Allowance for work that grows with the size of values (deep comparisons):
// one unit per element visited. Running out throws a kLimit TemplateError.
// The interpreter lends its step budget, so a hostile template cannot make
// one comparison take forever.
struct WorkBudget {
  uint64_t left = UINT64_MAX;
  void spend(uint64_t units);
};

// Python `==` (1 == 1.0 == True; dicts compare without order; list != tuple).
bool values_equal(const Value& a, const Value& b, WorkBudget* budget = nullptr);
// Python type name, for error messages: "str", "int", "NoneType", ...
const char* type_name(const Value& v);

// Python str(): strings as is, True/False/None, floats as repr, containers as
// repr. Throws a kLimit TemplateError once the text would pass max_bytes.
std::string to_python_str(const Value& v, size_t max_bytes = SIZE_MAX);
// Python repr(): quotes strings the way Python does.
std::string to_python_repr(const Value& v, size_t max_bytes = SIZE_MAX);
// Python float repr: shortest round-trip digits, "1.0", "1e+16", "inf", "nan".
std::string python_float_repr(double d);

// Containers deeper than this cannot be built; keeps recursion in printing,
// comparing and destroying values bounded whatever a template does.
inline constexpr uint32_t kMaxValueDepth = 256;

}  // namespace minnow::tmpl
