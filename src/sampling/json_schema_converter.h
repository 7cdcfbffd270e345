// Internal to the JSON Schema -> GBNF converter (json_schema_grammar.h is
// the interface): the Converter class, whose walk is split by schema kind
// over json_schema_{converter,combinators,scalars,objects,arrays}.cpp.
//
// The converter walks the schema once. Every subschema becomes a GBNF
// expression; objects, arrays and $ref targets become named rules so the
// text stays linear in the schema's size. Alongside each expression it keeps
// a small "productivity" formula (which rules must be able to finish for the
// expression to finish), so that a $ref cycle without a base case is
// reported as an error instead of handing the sampler a grammar that can
// never complete.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/gbnf_writer.h"
#include "sampling/json_schema_grammar.h"

namespace minnow::json_schema {

using Json = nlohmann::ordered_json;
using gbnf::Bound;
using gbnf::Int128;

inline constexpr uint64_t kMaxRepeat = 1000;      // GrammarLimits::max_repeat: the parser's largest {m,n}
inline constexpr size_t kMaxGbnfBytes = 1 << 20;  // GrammarLimits::max_source_bytes
inline constexpr size_t kMaxHintChars = 40;       // rule names stay readable
inline constexpr size_t kMaxExcludedKeyChars = 128;  // declared keys that extra keys must differ from: nesting depth

// A JSON string character written as itself (no escape).
inline constexpr const char* kRawChar = "[^\"\\\\\\x00-\\x1F]";

// -------------------------------------------------------------- productivity

// Which named rules an expression needs to be able to finish.
struct Need {
  enum class Kind : uint8_t { kYes, kRule, kAll, kAny };
  Kind kind = Kind::kYes;
  std::string rule;
  std::vector<Need> parts;

  static Need yes() { return {}; }
  static Need on(std::string rule) { return {Kind::kRule, std::move(rule), {}}; }
  static Need all(std::vector<Need> parts) {
    std::vector<Need> kept;
    for (auto& p : parts)
      if (p.kind != Kind::kYes) kept.push_back(std::move(p));
    if (kept.empty()) return yes();
    if (kept.size() == 1) return std::move(kept[0]);
    return {Kind::kAll, "", std::move(kept)};
  }
  static Need any(std::vector<Need> parts) {
    for (const auto& p : parts)
      if (p.kind == Kind::kYes) return yes();
    if (parts.size() == 1) return std::move(parts[0]);
    return {Kind::kAny, "", std::move(parts)};
  }
};

struct Expr {
  std::string text;
  Need need;
};

// ------------------------------------------------------------------ schemas

std::string where(const std::string& pointer);

std::string pointer_token(std::string_view key);

// Keywords that describe but do not constrain.
bool is_annotation(std::string_view key);

// Keywords this converter implements; anything else constraining is an error.
bool is_handled(std::string_view key);

const Json* member(const Json& s, const char* key);

bool has_type(const Json& v, std::string_view type);

// The fixed rules every grammar may use; the body names others via `ref`.
enum Prim : int {
  kWs, kValue, kObject, kMember, kArray, kString, kChar, kNumber, kInteger, kBoolean, kNull,
  kDate, kTime, kDateTime, kUuid, kEmail, kEmailAtom, kEmailLabel, kIpv4, kIpv4Octet, kPrimCount
};
inline constexpr const char* kPrimNames[kPrimCount] = {
    "ws", "value", "object", "member", "array", "string", "char", "number", "integer", "boolean", "null",
    "date", "time", "date-time", "uuid", "email", "email-atom", "email-label", "ipv4", "ipv4-octet"};

class Converter {
 public:
  Converter(const Json& root, std::string prefix, const JsonGrammarOptions& options)
      : root_(root), prefix_(std::move(prefix)), opt_(options) {}

  // Appends the grammar to `out`; returns the root rule's name.
  Expected<std::string> run(std::string& out);

 private:
  struct Rule {
    std::string name, body, path;
  };

  // ---- names and rules (json_schema_converter.cpp, as are the fixed rules, the walk and productivity)
  std::string full(std::string_view local) const;
  static std::string sanitize(std::string_view hint);
  static std::string child_hint(const std::string& parent, std::string_view key);
  std::string new_name(const std::string& hint);
  Status check_limits(size_t more_bytes);

  // Names `body` as a rule (reusing an identical one). The root schema
  // (empty hint) stays inline: its body becomes `root` itself.
  Expected<Expr> add_rule(const std::string& hint, Expr body, const std::string& path);

  // An expression that is about to be written more than once: a rule
  // unless it already is a single name.
  Expected<Expr> reusable(const std::string& hint, Expr e, const std::string& path);

  // ---- fixed rules
  std::string prim(Prim p);
  std::string ws();
  std::string prim_body(Prim p);
  Expr any_value();

  // ---- schema walk
  Expected<Expr> visit(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);

  // A member value or array item. Consuming "{" or "[" before it is what
  // makes recursion through it safe, so the left-recursion guard resets.
  Expected<Expr> visit_child(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);
  Expr alternatives(std::vector<Expr> alts);
  Status check_keywords(const Json& s, const std::string& path);

  // $ref, anyOf, allOf and enum are handled on their own: any other
  // constraining keyword next to them would need an intersection.
  Status only_with(const Json& s, const std::string& path, std::string_view keyword,
                   std::initializer_list<std::string_view> allowed);
  Expected<std::vector<std::string>> schema_types(const Json& s, const std::string& path);
  Expected<Expr> visit_typed(const Json& s, const std::string& type, const std::string& path,
                             const std::string& hint, uint32_t depth);

  // ---- $ref, anyOf, allOf, enum (json_schema_combinators.cpp)
  static std::string ref_hint(std::string_view pointer);
  Expected<Expr> visit_ref(const Json& s, const std::string& path, uint32_t depth);
  Expected<Expr> visit_any_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);
  Expected<Expr> visit_all_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);
  Expected<std::string> dump(const Json& v, const std::string& path);
  Expected<Expr> visit_enum(const Json& s, const std::string& path);

  // ---- strings and numbers (json_schema_scalars.cpp)
  Expected<std::optional<uint64_t>> read_count(const Json& s, const char* key, const std::string& path);
  Expected<Expr> visit_string(const Json& s, const std::string& path);
  Expected<Bound> to_bound(const Json& v, const char* key, bool lower, bool exclusive, bool integer,
                           const std::string& path);

  // The tightest of minimum/exclusiveMinimum (or the maximum side),
  // including draft-4's boolean exclusiveMinimum.
  Expected<std::optional<Bound>> read_bound(const Json& s, const std::string& path, bool lower, bool integer);
  Expected<Expr> visit_number(const Json& s, const std::string& path, bool integer);

  // ---- objects (json_schema_objects.cpp)

  struct Member {
    std::string key;
    Expr kv;  // key ws ":" ws value ws
    bool required;
  };
  Expected<Expr> key_value(const std::string& key, Expr value, const std::string& path);

  // Keys of extra members: any string when nothing is declared, otherwise
  // any key but the declared ones (a declared key must match its schema).
  Expected<std::string> extra_key(const std::vector<Member>& members, const std::string& path);
  Expected<Expr> visit_object(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);

  // "{" ws MEMBERS "}" where MEMBERS lists the declared members in order,
  // required ones always, optional ones maybe, commas only between present
  // ones. One alternative per possible first member (an optional member
  // before the first required one, or the first required one); the rest of
  // the list after member j is a shared `tail` where every member carries
  // its leading comma. Linear in the number of members.
  Expected<Expr> object_rule(const std::vector<Member>& members, const std::string& extras_tail,
                             const std::optional<Expr>& extra_kv, const std::string& path, const std::string& hint);

  // ---- arrays (json_schema_arrays.cpp)

  Expected<Expr> visit_array(const Json& s, const std::string& path, const std::string& hint, uint32_t depth);

  // ---- productivity

  bool finishes(const Need& need, const std::set<std::string>& good) const;

  // Least fixpoint: a rule can finish if one of its ways needs only rules
  // that can. A rule that cannot would let the model start a value it can
  // never close.
  Status check_productive(const Expr& root) const;

  const Json& root_;
  const std::string prefix_;
  const JsonGrammarOptions opt_;
  std::vector<Rule> rules_;
  std::map<std::string, Need> needs_;
  std::map<std::string, std::string> by_body_;
  std::set<std::string> used_names_;
  std::map<std::string, std::string> refs_;  // JSON pointer -> rule name
  std::set<std::string> unguarded_refs_;     // refs entered since the last "{" or "["
  bool prim_used_[kPrimCount] = {};
  std::string prim_bodies_[kPrimCount];
  size_t bytes_ = 0;
};

}  // namespace minnow::json_schema
