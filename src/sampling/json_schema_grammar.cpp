// JSON Schema -> GBNF. See json_schema_grammar.h for what is supported.
//
// The converter walks the schema once. Every subschema becomes a GBNF
// expression; objects, arrays and $ref targets become named rules so the
// text stays linear in the schema's size. Alongside each expression it keeps
// a small "productivity" formula (which rules must be able to finish for the
// expression to finish), so that a $ref cycle without a base case is
// reported as an error instead of handing the sampler a grammar that can
// never complete.
#include "sampling/json_schema_grammar.h"

#include "sampling/gbnf_writer.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace minnow {
namespace {

using Json = nlohmann::ordered_json;
using namespace gbnf;  // NOLINT: the converter is written in these pieces

constexpr uint64_t kMaxRepeat = 1000;      // GrammarLimits::max_repeat: the parser's largest {m,n}
constexpr size_t kMaxGbnfBytes = 1 << 20;  // GrammarLimits::max_source_bytes
constexpr size_t kMaxHintChars = 40;       // rule names stay readable
constexpr size_t kMaxExcludedKeyChars = 128;  // declared keys that extra keys must differ from: nesting depth

// A JSON string character written as itself (no escape).
constexpr const char* kRawChar = "[^\"\\\\\\x00-\\x1F]";

// The text between the quotes of any key that is not one of `keys`.
// Walks the keys' trie: at each node the key may end (unless a key ends
// there), continue along a child, or leave the trie with any other
// character. Such keys are written without escapes, so that "\u0061"
// cannot spell a declared "a" (stricter than JSON: an extra key that needs
// an escape is not allowed).
struct KeyTrie {
  bool terminal = false;
  std::map<uint32_t, KeyTrie> kids;
};

std::string other_key(const KeyTrie& node) {
  std::vector<std::string> alts;
  std::string others = "[^\"\\\\\\x00-\\x1F";
  for (const auto& [cp, kid] : node.kids) {
    if (cp < 0x20 || cp == '"' || cp == '\\') continue;  // needs an escape: never written here
    std::string c = class_char(cp);
    alts.push_back(seq({"[" + c + "]", other_key(kid)}));
    others += c;
  }
  alts.push_back(seq({others + "]", std::string(kRawChar) + "*"}));
  return "(" + join(alts, " | ") + ")" + (node.terminal ? "" : "?");
}

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

std::string where(const std::string& pointer) { return "#" + pointer; }

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// Keywords that describe but do not constrain.
bool is_annotation(std::string_view key) {
  static const std::set<std::string_view> kAnnotations = {
      "title", "description", "examples", "default", "$schema", "$id", "$comment", "$anchor", "strict",
      "deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "contentSchema"};
  return kAnnotations.count(key) > 0 || key.substr(0, 2) == "x-";
}

// Keywords this converter implements; anything else constraining is an error.
bool is_handled(std::string_view key) {
  static const std::set<std::string_view> kHandled = {
      "type", "properties", "required", "additionalProperties", "items", "prefixItems", "additionalItems",
      "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "format", "minimum", "maximum",
      "exclusiveMinimum", "exclusiveMaximum", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs",
      "definitions"};
  return kHandled.count(key) > 0;
}

const Json* member(const Json& s, const char* key) {
  auto it = s.find(key);
  return it == s.end() ? nullptr : &*it;
}

bool has_type(const Json& v, std::string_view type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

// The fixed rules every grammar may use; the body names others via `ref`.
enum Prim : int {
  kWs, kValue, kObject, kMember, kArray, kString, kChar, kNumber, kInteger, kBoolean, kNull,
  kDate, kTime, kDateTime, kUuid, kEmail, kEmailAtom, kEmailLabel, kIpv4, kIpv4Octet, kPrimCount
};
const char* const kPrimNames[kPrimCount] = {
    "ws", "value", "object", "member", "array", "string", "char", "number", "integer", "boolean", "null",
    "date", "time", "date-time", "uuid", "email", "email-atom", "email-label", "ipv4", "ipv4-octet"};

class Converter {
 public:
  Converter(const Json& root, std::string prefix, const JsonGrammarOptions& options)
      : root_(root), prefix_(std::move(prefix)), opt_(options) {}

  // Appends the grammar to `out`; returns the root rule's name.
  Expected<std::string> run(std::string& out) {
    const std::string root_name = prefix_.empty() ? "root" : prefix_;
    used_names_.insert(root_name);
    for (const char* p : kPrimNames) used_names_.insert(full(p));
    MINNOW_ASSIGN_OR_RETURN(Expr root, visit(root_, "", "", 0));
    MINNOW_TRY(check_productive(root));
    std::string text = root_name + " ::= " + root.text + "\n";
    for (const auto& r : rules_) text += r.name + " ::= " + r.body + "\n";
    for (int p = 0; p < kPrimCount; ++p)
      if (prim_used_[p]) text += full(kPrimNames[p]) + " ::= " + prim_bodies_[p] + "\n";
    if (text.size() > kMaxGbnfBytes)
      return resource_limit("JSON Schema grammar is " + std::to_string(text.size()) + " bytes, over the limit of " +
                            std::to_string(kMaxGbnfBytes));
    out += text;
    return root_name;
  }

 private:
  struct Rule {
    std::string name, body, path;
  };

  // ---- names and rules

  std::string full(std::string_view local) const {
    return prefix_.empty() ? std::string(local) : prefix_ + "-" + std::string(local);
  }

  static std::string sanitize(std::string_view hint) {
    std::string s;
    for (char c : hint) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (ok) s += c;
      else if (!s.empty() && s.back() != '-') s += '-';
    }
    if (s.size() > kMaxHintChars) s.resize(kMaxHintChars);
    while (!s.empty() && s.back() == '-') s.pop_back();
    return s.empty() ? "schema" : s;
  }

  static std::string child_hint(const std::string& parent, std::string_view key) {
    std::string s = parent.empty() ? sanitize(key) : parent + "-" + sanitize(key);
    return s.size() > kMaxHintChars ? s.substr(0, kMaxHintChars) : s;
  }

  std::string new_name(const std::string& hint) {
    const std::string base = full(sanitize(hint));
    std::string name = base;
    for (int i = 2; used_names_.count(name); ++i) name = base + "-" + std::to_string(i);
    used_names_.insert(name);
    return name;
  }

  Status check_limits(size_t more_bytes) {
    size_t prims = std::count(std::begin(prim_used_), std::end(prim_used_), true);
    if (rules_.size() + prims + 1 > opt_.max_rules)
      return resource_limit("JSON Schema needs more than " + std::to_string(opt_.max_rules) + " grammar rules");
    bytes_ += more_bytes;
    if (bytes_ > kMaxGbnfBytes)
      return resource_limit("JSON Schema grammar exceeds " + std::to_string(kMaxGbnfBytes) + " bytes");
    return Status::success();
  }

  // Names `body` as a rule (reusing an identical one). The root schema
  // (empty hint) stays inline: its body becomes `root` itself.
  Expected<Expr> add_rule(const std::string& hint, Expr body, const std::string& path) {
    if (hint.empty()) return body;
    if (auto it = by_body_.find(body.text); it != by_body_.end()) return Expr{it->second, Need::on(it->second)};
    MINNOW_TRY(check_limits(body.text.size()));
    std::string name = new_name(hint);
    by_body_[body.text] = name;
    needs_[name] = body.need;
    rules_.push_back({name, std::move(body.text), path});
    return Expr{name, Need::on(name)};
  }

  // An expression that is about to be written more than once: a rule
  // unless it already is a single name.
  Expected<Expr> reusable(const std::string& hint, Expr e, const std::string& path) {
    bool is_name = !e.text.empty() && std::all_of(e.text.begin(), e.text.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (is_name) return e;
    return add_rule(hint.empty() ? "item" : hint, std::move(e), path);
  }

  // ---- fixed rules

  std::string prim(Prim p) {
    if (!prim_used_[p]) {
      prim_used_[p] = true;  // before the body: bodies refer to each other
      prim_bodies_[p] = prim_body(p);
    }
    return full(kPrimNames[p]);
  }

  std::string ws() { return opt_.compact ? "" : prim(kWs); }

  std::string prim_body(Prim p) {
    const std::string comma = seq({"\",\"", ws()});
    switch (p) {
      // Bounded on purpose: a few blanks, or one newline plus indentation.
      case kWs: return "[ \\t]{0,8} | \"\\r\"? \"\\n\" [ \\t]{0,40}";
      case kValue:
        return join({prim(kObject), prim(kArray), prim(kString), prim(kNumber), prim(kBoolean), prim(kNull)}, " | ");
      case kObject:
        return seq({"\"{\"", ws(), "(", prim(kMember), "(", comma, prim(kMember), ")*", ")?", "\"}\""});
      case kMember: return seq({prim(kString), ws(), "\":\"", ws(), prim(kValue), ws()});
      case kArray: {
        std::string elem = seq({prim(kValue), ws()});
        return seq({"\"[\"", ws(), "(", elem, "(", comma, elem, ")*", ")?", "\"]\""});
      }
      case kString: return "\"\\\"\" " + prim(kChar) + "* \"\\\"\"";
      case kChar: return "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )";
      case kNumber: return prim(kInteger) + " (\".\" [0-9]+)? ([eE] [-+]? [0-9]+)?";
      case kInteger: return "\"-\"? (\"0\" | [1-9] [0-9]*)";
      case kBoolean: return "\"true\" | \"false\"";
      case kNull: return "\"null\"";
      case kDate: return "[0-9]{4} \"-\" (\"0\" [1-9] | \"1\" [0-2]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])";
      case kTime:
        return "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" ([0-5] [0-9] | \"60\") (\".\" [0-9]+)? "
               "([zZ] | [+\\-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
      case kDateTime: return prim(kDate) + " [tT] " + prim(kTime);
      case kUuid:
        return "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}";
      case kEmail: {
        std::string atom = prim(kEmailAtom), label = prim(kEmailLabel);
        return seq({atom, "(\".\"", atom + ")*", "\"@\"", label, "(\".\"", label + ")+"});
      }
      case kEmailAtom: return "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~\\-]+";
      case kEmailLabel: return "[a-zA-Z0-9]+ (\"-\"+ [a-zA-Z0-9]+)*";
      case kIpv4: {
        std::string o = prim(kIpv4Octet);
        return seq({o, "\".\"", o, "\".\"", o, "\".\"", o});
      }
      case kIpv4Octet: return "\"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9] [0-9] | [0-9]";
      case kPrimCount: break;
    }
    return "";
  }

  Expr any_value() { return {prim(kValue), Need::yes()}; }

  // ---- schema walk

  Expected<Expr> visit(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    if (depth > opt_.max_depth)
      return resource_limit("JSON Schema nested deeper than " + std::to_string(opt_.max_depth) + " levels at " +
                            where(path));
    if (s.is_boolean()) {
      if (s.get<bool>()) return any_value();
      return invalid_argument("JSON Schema 'false' at " + where(path) + " admits no value");
    }
    if (!s.is_object())
      return invalid_argument("JSON Schema at " + where(path) + " must be an object or a boolean, not " +
                              std::string(s.type_name()));
    MINNOW_TRY(check_keywords(s, path));
    if (s.contains("$ref")) return visit_ref(s, path, depth);
    if (s.contains("anyOf") || s.contains("oneOf")) return visit_any_of(s, path, hint, depth);
    if (s.contains("allOf")) return visit_all_of(s, path, hint, depth);
    if (s.contains("enum") || s.contains("const")) return visit_enum(s, path);
    MINNOW_ASSIGN_OR_RETURN(std::vector<std::string> types, schema_types(s, path));
    if (types.empty()) return any_value();
    std::vector<Expr> alts;
    for (const auto& t : types) {
      MINNOW_ASSIGN_OR_RETURN(Expr e, visit_typed(s, t, path, hint, depth));
      alts.push_back(std::move(e));
    }
    return alternatives(std::move(alts));
  }

  // A member value or array item. Consuming "{" or "[" before it is what
  // makes recursion through it safe, so the left-recursion guard resets.
  Expected<Expr> visit_child(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    std::set<std::string> saved = std::move(unguarded_refs_);
    unguarded_refs_.clear();
    auto e = visit(s, path, hint, depth + 1);
    unguarded_refs_ = std::move(saved);
    return e;
  }

  Expr alternatives(std::vector<Expr> alts) {
    if (alts.size() == 1) return std::move(alts[0]);
    std::vector<std::string> texts;
    std::vector<Need> needs;
    for (auto& a : alts) {
      if (std::find(texts.begin(), texts.end(), a.text) != texts.end()) continue;
      texts.push_back(std::move(a.text));
      needs.push_back(std::move(a.need));
    }
    return {group(texts), Need::any(std::move(needs))};
  }

  Status check_keywords(const Json& s, const std::string& path) {
    for (const auto& [key, value] : s.items()) {
      if (is_annotation(key)) continue;
      if (key == "uniqueItems" && !(value.is_boolean() && !value.get<bool>()))
        return unsupported("JSON Schema keyword 'uniqueItems' at " + where(path) + " is not supported");
      if (!is_handled(key)) return unsupported("JSON Schema keyword '" + key + "' at " + where(path) + " is not supported");
    }
    return Status::success();
  }

  // $ref, anyOf, allOf and enum are handled on their own: any other
  // constraining keyword next to them would need an intersection.
  Status only_with(const Json& s, const std::string& path, std::string_view keyword,
                   std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : s.items()) {
      if (is_annotation(key) || key == keyword || key == "$defs" || key == "definitions") continue;
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      if (key == "uniqueItems" || key == "additionalItems") continue;  // no effect without array keywords here
      return unsupported("JSON Schema keyword '" + key + "' next to '" + std::string(keyword) + "' at " + where(path) +
                         " is not supported");
    }
    return Status::success();
  }

  Expected<std::vector<std::string>> schema_types(const Json& s, const std::string& path) {
    static const std::set<std::string_view> kTypes = {"string", "number", "integer", "boolean",
                                                      "null", "object", "array"};
    std::vector<std::string> types;
    if (const Json* t = member(s, "type")) {
      std::vector<const Json*> names;
      if (t->is_array()) {
        for (const auto& n : *t) names.push_back(&n);
        if (names.empty()) return invalid_argument("empty 'type' list at " + where(path) + " admits no value");
      } else {
        names.push_back(t);
      }
      for (const Json* n : names) {
        if (!n->is_string() || !kTypes.count(n->get<std::string>()))
          return invalid_argument("'type' at " + where(path) + " must name JSON types, got " + n->dump());
        if (std::find(types.begin(), types.end(), n->get<std::string>()) == types.end())
          types.push_back(n->get<std::string>());
      }
      return types;
    }
    // No type: the keywords used say what the author meant.
    auto uses = [&](std::initializer_list<const char*> keys) {
      return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return s.contains(k); });
    };
    if (uses({"properties", "required", "additionalProperties"})) types.push_back("object");
    if (uses({"items", "prefixItems", "minItems", "maxItems"})) types.push_back("array");
    if (uses({"minLength", "maxLength", "format"})) types.push_back("string");
    if (uses({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) types.push_back("number");
    return types;
  }

  Expected<Expr> visit_typed(const Json& s, const std::string& type, const std::string& path,
                             const std::string& hint, uint32_t depth) {
    if (type == "string") return visit_string(s, path);
    if (type == "integer" || type == "number") return visit_number(s, path, type == "integer");
    if (type == "boolean") return Expr{prim(kBoolean), Need::yes()};
    if (type == "null") return Expr{prim(kNull), Need::yes()};
    if (type == "object") return visit_object(s, path, hint, depth);
    return visit_array(s, path, hint, depth);
  }

  // ---- $ref, anyOf, allOf, enum

  static std::string ref_hint(std::string_view pointer) {
    size_t slash = pointer.rfind('/');
    std::string_view last = slash == std::string_view::npos ? pointer : pointer.substr(slash + 1);
    return last.empty() ? "root" : std::string(last);
  }

  Expected<Expr> visit_ref(const Json& s, const std::string& path, uint32_t depth) {
    MINNOW_TRY(only_with(s, path, "$ref", {}));
    const Json& r = s.at("$ref");
    if (!r.is_string()) return invalid_argument("'$ref' at " + where(path) + " must be a string");
    const std::string ref = r.get<std::string>();
    if (ref.empty() || ref[0] != '#' || ref.find('%') != std::string::npos)
      return unsupported("'$ref' \"" + ref + "\" at " + where(path) +
                         " is not supported: only JSON pointers into this schema (\"#/$defs/...\")");
    const std::string pointer = ref.substr(1);
    if (auto it = refs_.find(pointer); it != refs_.end()) {
      if (unguarded_refs_.count(pointer))
        return unsupported("'$ref' \"" + ref + "\" at " + where(path) +
                           " recurses without consuming input (left recursion)");
      return Expr{it->second, Need::on(it->second)};
    }
    const Json* target = nullptr;
    try {
      target = &root_.at(Json::json_pointer(pointer));
    } catch (const std::exception&) {
    }
    if (!target) return invalid_argument("'$ref' \"" + ref + "\" at " + where(path) + " does not resolve");
    MINNOW_TRY(check_limits(0));
    // Named before its body is known, so recursive references find it.
    const std::string hint = ref_hint(pointer);
    const std::string name = new_name(hint);
    refs_[pointer] = name;
    const size_t slot = rules_.size();
    rules_.push_back({name, "", pointer});
    unguarded_refs_.insert(pointer);
    MINNOW_ASSIGN_OR_RETURN(Expr body, visit(*target, pointer, hint, depth + 1));
    unguarded_refs_.erase(pointer);
    MINNOW_TRY(check_limits(body.text.size()));
    rules_[slot].body = std::move(body.text);
    needs_[name] = std::move(body.need);
    return Expr{name, Need::on(name)};
  }

  Expected<Expr> visit_any_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    if (s.contains("anyOf") && s.contains("oneOf"))
      return unsupported("'anyOf' together with 'oneOf' at " + where(path) + " is not supported");
    const char* kw = s.contains("anyOf") ? "anyOf" : "oneOf";
    MINNOW_TRY(only_with(s, path, kw, {}));
    const Json& list = s.at(kw);
    if (!list.is_array() || list.empty())
      return invalid_argument(std::string("'") + kw + "' at " + where(path) + " must be a non-empty array");
    std::vector<Expr> alts;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_boolean() && !list[i].get<bool>()) continue;  // matches nothing
      std::string sub = path + "/" + kw + "/" + std::to_string(i);
      MINNOW_ASSIGN_OR_RETURN(Expr e, visit(list[i], sub, child_hint(hint.empty() ? "alt" : hint, std::to_string(i)),
                                            depth + 1));
      alts.push_back(std::move(e));
    }
    if (alts.empty()) return invalid_argument(std::string("'") + kw + "' at " + where(path) + " admits no value");
    return alternatives(std::move(alts));
  }

  Expected<Expr> visit_all_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    MINNOW_TRY(only_with(s, path, "allOf", {}));
    const Json& list = s.at("allOf");
    if (!list.is_array() || list.size() != 1)
      return unsupported("'allOf' at " + where(path) + " is supported only with exactly one schema");
    return visit(list[0], path + "/allOf/0", hint, depth + 1);
  }

  Expected<std::string> dump(const Json& v, const std::string& path) {
    try {
      return v.dump();
    } catch (const std::exception&) {
      return invalid_argument("JSON Schema at " + where(path) + " holds a string that is not valid UTF-8");
    }
  }

  Expected<Expr> visit_enum(const Json& s, const std::string& path) {
    MINNOW_TRY(only_with(s, path, s.contains("enum") ? "enum" : "const", {"enum", "const", "type"}));
    std::vector<const Json*> values;
    if (const Json* e = member(s, "enum")) {
      if (!e->is_array()) return invalid_argument("'enum' at " + where(path) + " must be an array");
      for (const auto& v : *e) values.push_back(&v);
    }
    if (const Json* c = member(s, "const")) {
      if (s.contains("enum")) {
        std::erase_if(values, [&](const Json* v) { return *v != *c; });
      } else {
        values.push_back(c);
      }
    }
    if (s.contains("type")) {
      MINNOW_ASSIGN_OR_RETURN(std::vector<std::string> types, schema_types(s, path));
      std::erase_if(values, [&](const Json* v) {
        return std::none_of(types.begin(), types.end(), [&](const std::string& t) { return has_type(*v, t); });
      });
    }
    if (values.empty()) return invalid_argument("'enum'/'const' at " + where(path) + " admits no value");
    std::vector<std::string> alts;
    for (const Json* v : values) {
      MINNOW_ASSIGN_OR_RETURN(std::string text, dump(*v, path));
      std::string lit = gbnf_literal(text);
      if (std::find(alts.begin(), alts.end(), lit) == alts.end()) alts.push_back(std::move(lit));
    }
    return Expr{group(alts), Need::yes()};
  }

  // ---- strings and numbers

  Expected<std::optional<uint64_t>> read_count(const Json& s, const char* key, const std::string& path) {
    const Json* v = member(s, key);
    if (!v) return std::optional<uint64_t>();
    bool integral = v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0) ||
                    (v->is_number_float() && v->get<double>() >= 0 && std::floor(v->get<double>()) == v->get<double>());
    if (!integral)
      return invalid_argument(std::string("'") + key + "' at " + where(path) + " must be a non-negative integer");
    if (v->get<double>() > static_cast<double>(kMaxRepeat))
      return resource_limit(std::string("'") + key + "' " + v->dump() + " at " + where(path) +
                            " exceeds the supported limit of " + std::to_string(kMaxRepeat));
    return std::optional<uint64_t>(v->get<uint64_t>());
  }

  Expected<Expr> visit_string(const Json& s, const std::string& path) {
    MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> min_len, read_count(s, "minLength", path));
    MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> max_len, read_count(s, "maxLength", path));
    const std::string quote = "\"\\\"\"";
    if (const Json* f = member(s, "format")) {
      static const std::map<std::string, Prim> kFormats = {{"date", kDate}, {"time", kTime},
                                                           {"date-time", kDateTime}, {"uuid", kUuid},
                                                           {"email", kEmail}, {"ipv4", kIpv4}};
      auto it = f->is_string() ? kFormats.find(f->get<std::string>()) : kFormats.end();
      if (it == kFormats.end())
        return unsupported("JSON Schema 'format' " + f->dump() + " at " + where(path) + " is not supported");
      if (min_len || max_len)
        return unsupported("'minLength'/'maxLength' together with 'format' at " + where(path) + " is not supported");
      return Expr{seq({quote, prim(it->second), quote}), Need::yes()};
    }
    if (!min_len && !max_len) return Expr{prim(kString), Need::yes()};
    uint64_t lo = min_len.value_or(0);
    if (max_len && lo > *max_len)
      return invalid_argument("'minLength' > 'maxLength' at " + where(path) + ": no string satisfies both");
    return Expr{seq({quote, repeat(prim(kChar), lo, max_len), quote}), Need::yes()};
  }

  Expected<Bound> to_bound(const Json& v, const char* key, bool lower, bool exclusive, bool integer,
                           const std::string& path) {
    std::string what = std::string("'") + key + "' " + v.dump() + " at " + where(path);
    Int128 value = 0;
    if (v.is_number_unsigned()) {
      value = v.get<uint64_t>();
    } else if (v.is_number_integer()) {
      value = v.get<int64_t>();
    } else {
      double d = v.get<double>();
      if (!std::isfinite(d) || std::fabs(d) > 1e30) return out_of_range(what + " is out of the supported range");
      double rounded = lower ? std::ceil(d) : std::floor(d);
      if (rounded != d) {
        if (!integer) return unsupported(what + " is not supported (numbers take only integer bounds)");
        // An integer above 2.5 is at least 3: the bound becomes inclusive.
        return Bound{static_cast<Int128>(rounded), false};
      }
      value = static_cast<Int128>(d);
    }
    if (integer && exclusive) return Bound{lower ? value + 1 : value - 1, false};
    return Bound{value, exclusive};
  }

  // The tightest of minimum/exclusiveMinimum (or the maximum side),
  // including draft-4's boolean exclusiveMinimum.
  Expected<std::optional<Bound>> read_bound(const Json& s, const std::string& path, bool lower, bool integer) {
    const char* inclusive_key = lower ? "minimum" : "maximum";
    const char* exclusive_key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
    const Json* excl = member(s, exclusive_key);
    bool draft4_exclusive = excl && excl->is_boolean() && excl->get<bool>();
    std::optional<Bound> best;
    for (const char* key : {inclusive_key, exclusive_key}) {
      const Json* v = member(s, key);
      if (!v || (key == exclusive_key && v->is_boolean())) continue;
      if (!v->is_number()) return invalid_argument(std::string("'") + key + "' at " + where(path) + " must be a number");
      bool exclusive = key == exclusive_key || draft4_exclusive;
      MINNOW_ASSIGN_OR_RETURN(Bound b, to_bound(*v, key, lower, exclusive, integer, path));
      bool tighter = !best || (lower ? b.value > best->value : b.value < best->value) ||
                     (b.value == best->value && b.exclusive);
      if (tighter) best = b;
    }
    return best;
  }

  Expected<Expr> visit_number(const Json& s, const std::string& path, bool integer) {
    MINNOW_ASSIGN_OR_RETURN(std::optional<Bound> lo, read_bound(s, path, true, integer));
    MINNOW_ASSIGN_OR_RETURN(std::optional<Bound> hi, read_bound(s, path, false, integer));
    if (!lo && !hi) return Expr{prim(integer ? kInteger : kNumber), Need::yes()};
    std::string text;
    if (integer) {
      std::optional<Int128> l, h;
      if (lo) l = lo->value;
      if (hi) h = hi->value;
      text = integer_range(l, h);
    } else {
      text = number_range(lo, hi);
    }
    if (text.empty()) return invalid_argument("numeric bounds at " + where(path) + " admit no value");
    return Expr{text, Need::yes()};
  }

  // ---- objects

  struct Member {
    std::string key;
    Expr kv;  // key ws ":" ws value ws
    bool required;
  };

  Expected<Expr> key_value(const std::string& key, Expr value, const std::string& path) {
    MINNOW_ASSIGN_OR_RETURN(std::string key_json, dump(Json(key), path));
    return Expr{seq({gbnf_literal(key_json), ws(), "\":\"", ws(), value.text, ws()}), std::move(value.need)};
  }

  // Keys of extra members: any string when nothing is declared, otherwise
  // any key but the declared ones (a declared key must match its schema).
  Expected<std::string> extra_key(const std::vector<Member>& members, const std::string& path) {
    if (members.empty()) return prim(kString);
    KeyTrie trie;
    for (const auto& m : members) {
      std::vector<uint32_t> cps = code_points(m.key);
      if (cps.size() > kMaxExcludedKeyChars)
        return unsupported("property name longer than " + std::to_string(kMaxExcludedKeyChars) +
                           " characters next to 'additionalProperties' at " + where(path) + " is not supported");
      KeyTrie* node = &trie;
      for (uint32_t cp : cps) node = &node->kids[cp];
      node->terminal = true;
    }
    return seq({"\"\\\"\"", other_key(trie), "\"\\\"\""});
  }

  Expected<Expr> visit_object(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    const Json* props = member(s, "properties");
    const Json* req = member(s, "required");
    const Json* extra = member(s, "additionalProperties");
    if (props && !props->is_object()) return invalid_argument("'properties' at " + where(path) + " must be an object");
    if (extra && !extra->is_boolean() && !extra->is_object())
      return invalid_argument("'additionalProperties' at " + where(path) + " must be a boolean or a schema");
    std::vector<std::string> required;
    if (req) {
      if (!req->is_array()) return invalid_argument("'required' at " + where(path) + " must be an array of strings");
      for (const auto& r : *req) {
        if (!r.is_string()) return invalid_argument("'required' at " + where(path) + " must be an array of strings");
        if (std::find(required.begin(), required.end(), r.get<std::string>()) == required.end())
          required.push_back(r.get<std::string>());
      }
    }
    bool extra_is_false = extra && extra->is_boolean() && !extra->get<bool>();
    bool extra_is_true = extra && extra->is_boolean() && extra->get<bool>();
    if (!props && required.empty() && (!extra || extra_is_true)) return Expr{prim(kObject), Need::yes()};
    // CHOICE (see header): with `properties`, a missing additionalProperties means no extra keys.
    const bool extras_allowed = extra ? !extra_is_false : !props;

    std::optional<Expr> extra_value;  // visited once, used for extras and undeclared required keys
    auto get_extra_value = [&]() -> Expected<Expr> {
      if (!extra_value) {
        if (extra && extra->is_object()) {
          MINNOW_ASSIGN_OR_RETURN(Expr e, visit_child(*extra, path + "/additionalProperties",
                                                      child_hint(hint, "extra"), depth));
          extra_value = std::move(e);
        } else {
          extra_value = any_value();
        }
      }
      return *extra_value;
    };

    std::vector<Member> members;
    if (props) {
      for (const auto& [key, sub] : props->items()) {
        bool is_required = std::find(required.begin(), required.end(), key) != required.end();
        std::string sub_path = path + "/properties/" + pointer_token(key);
        if (sub.is_boolean() && !sub.get<bool>()) {
          if (is_required) return invalid_argument("required property at " + where(sub_path) + " has schema false");
          continue;  // may never appear
        }
        MINNOW_ASSIGN_OR_RETURN(Expr value, visit_child(sub, sub_path, child_hint(hint, key), depth));
        MINNOW_ASSIGN_OR_RETURN(Expr kv, key_value(key, std::move(value), sub_path));
        members.push_back({key, std::move(kv), is_required});
      }
    }
    for (const auto& key : required) {
      if (props && props->contains(key)) continue;
      if (extra_is_false)
        return invalid_argument("required property '" + key + "' at " + where(path) +
                                " is not allowed by 'additionalProperties': false");
      MINNOW_ASSIGN_OR_RETURN(Expr value, get_extra_value());
      MINNOW_ASSIGN_OR_RETURN(Expr kv, key_value(key, std::move(value), path));
      members.push_back({key, std::move(kv), true});
    }

    // Extra members come after the declared ones, each with its comma.
    std::string extras_tail;
    std::optional<Expr> extra_kv;
    if (extras_allowed) {
      MINNOW_ASSIGN_OR_RETURN(Expr value, get_extra_value());
      MINNOW_ASSIGN_OR_RETURN(std::string key, extra_key(members, path));
      Expr kv{seq({key, ws(), "\":\"", ws(), value.text, ws()}), value.need};
      MINNOW_ASSIGN_OR_RETURN(Expr kv_rule, reusable(child_hint(hint, "extra-kv"), std::move(kv), path));
      extra_kv = kv_rule;
      Expr tail{"(" + seq({"\",\"", ws(), kv_rule.text}) + ")*", Need::yes()};
      MINNOW_ASSIGN_OR_RETURN(Expr tail_rule, add_rule(child_hint(hint.empty() ? "object" : hint, "extras"),
                                                       std::move(tail), path));
      extras_tail = tail_rule.text;
    }
    return object_rule(members, extras_tail, extra_kv, path, hint);
  }

  // "{" ws MEMBERS "}" where MEMBERS lists the declared members in order,
  // required ones always, optional ones maybe, commas only between present
  // ones. One alternative per possible first member (an optional member
  // before the first required one, or the first required one); the rest of
  // the list after member j is a shared `tail` where every member carries
  // its leading comma. Linear in the number of members.
  Expected<Expr> object_rule(const std::vector<Member>& members, const std::string& extras_tail,
                             const std::optional<Expr>& extra_kv, const std::string& path, const std::string& hint) {
    const size_t n = members.size();
    size_t first_required = n;
    for (size_t i = 0; i < n; ++i)
      if (members[i].required) {
        first_required = i;
        break;
      }
    const std::string comma = seq({"\",\"", ws()});
    std::vector<Expr> tail(n + 1);  // tail[j]: members j.. with leading commas
    for (size_t j = n; j-- > 1;) {
      std::string piece = seq({comma, members[j].kv.text});
      Need need = tail[j + 1].need;
      if (members[j].required) need = Need::all({members[j].kv.need, std::move(need)});
      else piece = "(" + piece + ")?";
      Expr t{seq({piece, tail[j + 1].text}), std::move(need)};
      // Shared by the alternative starting at j-1 and by tail[j-1].
      if (j >= 2 && j - 1 <= first_required) {
        MINNOW_ASSIGN_OR_RETURN(t, add_rule(child_hint(hint.empty() ? "object" : hint, "rest"), std::move(t), path));
      }
      tail[j] = std::move(t);
    }
    std::vector<std::string> alts;
    std::vector<Need> alt_needs;
    for (size_t k = 0; k < n && k <= first_required; ++k) {
      alts.push_back(seq({members[k].kv.text, tail[k + 1].text, extras_tail}));
      alt_needs.push_back(Need::all({members[k].kv.need, tail[k + 1].need}));
    }
    const bool may_be_empty = first_required == n;
    if (extra_kv && may_be_empty) alts.push_back(seq({extra_kv->text, extras_tail}));
    std::string list;
    if (!alts.empty()) list = may_be_empty ? "(" + join(alts, " | ") + ")?" : group(alts);
    Need need = may_be_empty ? Need::yes() : Need::any(std::move(alt_needs));
    Expr body{seq({"\"{\"", ws(), list, "\"}\""}), std::move(need)};
    return add_rule(hint, std::move(body), path);
  }

  // ---- arrays

  Expected<Expr> visit_array(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
    const Json* items = member(s, "items");
    const Json* prefix = member(s, "prefixItems");
    std::vector<const Json*> positional;
    std::string positional_key;
    const Json* rest = nullptr;  // schema of items after the positional ones
    std::string rest_path;
    if (prefix) {
      if (!prefix->is_array()) return invalid_argument("'prefixItems' at " + where(path) + " must be an array");
      if (items && items->is_array())
        return invalid_argument("'items' at " + where(path) + " must be a schema next to 'prefixItems'");
      for (const auto& p : *prefix) positional.push_back(&p);
      positional_key = "prefixItems";
      rest = items;
      rest_path = path + "/items";
    } else if (items && items->is_array()) {  // draft-7 tuple form
      for (const auto& p : *items) positional.push_back(&p);
      positional_key = "items";
      rest = member(s, "additionalItems");
      rest_path = path + "/additionalItems";
    } else {
      rest = items;
      rest_path = path + "/items";
    }
    // CHOICE (see header): after positional items, a missing rest schema means no more items.
    bool rest_allowed = rest ? !(rest->is_boolean() && !rest->get<bool>()) : positional.empty();
    if (rest && !rest->is_boolean() && !rest->is_object())
      return invalid_argument("item schema at " + where(rest_path) + " must be a boolean or a schema");

    MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> min_items, read_count(s, "minItems", path));
    MINNOW_ASSIGN_OR_RETURN(std::optional<uint64_t> max_items, read_count(s, "maxItems", path));
    uint64_t min = min_items.value_or(0);
    std::optional<uint64_t> max = max_items;
    // A `false` positional schema ends the array before it.
    for (size_t i = 0; i < positional.size(); ++i)
      if (positional[i]->is_boolean() && !positional[i]->get<bool>()) {
        positional.resize(i);
        rest_allowed = false;
        break;
      }
    if (!rest_allowed) max = std::min<uint64_t>(max.value_or(positional.size()), positional.size());
    if (max && min > *max)
      return invalid_argument("array constraints at " + where(path) + " admit no array (minItems " +
                              std::to_string(min) + " > " + std::to_string(*max) + " possible items)");
    bool rest_is_any = !rest || (rest->is_boolean() && rest->get<bool>());
    if (positional.empty() && rest_is_any && min == 0 && !max) return Expr{prim(kArray), Need::yes()};
    const size_t k = max ? std::min<uint64_t>(positional.size(), *max) : positional.size();

    const std::string comma = seq({"\",\"", ws()});
    // The rest items: `elem` is "item ws", written twice, hence a rule.
    std::optional<Expr> elem;
    if (rest_allowed && (!max || *max > k)) {
      Expr item;
      if (rest && rest->is_object()) {
        MINNOW_ASSIGN_OR_RETURN(item, visit_child(*rest, rest_path, child_hint(hint, "item"), depth));
      } else {
        item = any_value();
      }
      Expr item_ws{seq({item.text, ws()}), item.need};
      MINNOW_ASSIGN_OR_RETURN(Expr e, reusable(child_hint(hint, "item"), std::move(item_ws), path));
      elem = std::move(e);
    }
    std::string content;
    Need need = Need::yes();
    if (k == 0) {
      if (elem) {
        std::optional<uint64_t> more;
        if (max) more = *max - 1;
        content = seq({elem->text, repeat("(" + seq({comma, elem->text}) + ")", min > 0 ? min - 1 : 0, more)});
        if (min == 0) content = "(" + content + ")?";
        else need = elem->need;
      }
    } else {
      // Nested from the back: position i exists only if position i-1 does;
      // positions below minItems are mandatory.
      if (elem) {
        std::optional<uint64_t> more;
        if (max) more = *max - k;
        content = repeat("(" + seq({comma, elem->text}) + ")", min > k ? min - k : 0, more);
        if (min > k) need = elem->need;
      }
      for (size_t i = k; i-- > 0;) {
        std::string sub = path + "/" + positional_key + "/" + std::to_string(i);
        MINNOW_ASSIGN_OR_RETURN(Expr item, visit_child(*positional[i], sub, child_hint(hint, "item" + std::to_string(i)),
                                                       depth));
        content = seq({i > 0 ? comma : "", item.text, ws(), content});
        need = Need::all({std::move(item.need), std::move(need)});
        if (i >= min) {
          content = "(" + content + ")?";
          need = Need::yes();
        }
        // Long tuples: name the nested tail now and then, so no rule nests deeply.
        if (i > 0 && (k - i) % 8 == 0) {
          Expr tail{std::move(content), std::move(need)};
          MINNOW_ASSIGN_OR_RETURN(Expr t, add_rule(child_hint(hint, "from" + std::to_string(i)), std::move(tail), path));
          content = t.text;
          need = t.need;
        }
      }
    }
    Expr body{seq({"\"[\"", ws(), content, "\"]\""}), std::move(need)};
    return add_rule(hint, std::move(body), path);
  }

  // ---- productivity

  bool finishes(const Need& need, const std::set<std::string>& good) const {
    switch (need.kind) {
      case Need::Kind::kYes: return true;
      case Need::Kind::kRule: return good.count(need.rule) > 0 || !needs_.count(need.rule);
      case Need::Kind::kAll:
        return std::all_of(need.parts.begin(), need.parts.end(), [&](const Need& p) { return finishes(p, good); });
      case Need::Kind::kAny:
        return std::any_of(need.parts.begin(), need.parts.end(), [&](const Need& p) { return finishes(p, good); });
    }
    return false;
  }

  // Least fixpoint: a rule can finish if one of its ways needs only rules
  // that can. A rule that cannot would let the model start a value it can
  // never close.
  Status check_productive(const Expr& root) const {
    std::set<std::string> good;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& r : rules_)  // creation order: dependencies tend to come first
        if (!good.count(r.name) && finishes(needs_.at(r.name), good)) {
          good.insert(r.name);
          changed = true;
        }
    }
    for (const auto& r : rules_)
      if (!good.count(r.name))
        return invalid_argument("JSON Schema at " + where(r.path) +
                                " admits no finite JSON value (a $ref cycle without a base case)");
    if (!finishes(root.need, good)) return invalid_argument("JSON Schema admits no finite JSON value");
    return Status::success();
  }

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

bool valid_rule_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Whether a rule in `gbnf` is named `prefix` or `prefix-...`.
bool prefix_in_use(std::string_view gbnf, std::string_view prefix) {
  size_t pos = 0;
  while (pos < gbnf.size()) {
    size_t end = gbnf.find('\n', pos);
    if (end == std::string_view::npos) end = gbnf.size();
    std::string_view line = gbnf.substr(pos, end - pos);
    pos = end + 1;
    size_t def = line.find("::=");
    if (def == std::string_view::npos) continue;
    std::string_view name = line.substr(0, def);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.substr(0, prefix.size()) == prefix && (name.size() == prefix.size() || name[prefix.size()] == '-'))
      return true;
  }
  return false;
}

Expected<std::string> convert(const nlohmann::ordered_json& schema, std::string prefix, std::string& out,
                              const JsonGrammarOptions& options) {
  try {
    Converter c(schema, std::move(prefix), options);
    return c.run(out);
  } catch (const std::exception& e) {  // nlohmann or allocation: never escapes
    return Error(ErrorCode::kInternal, std::string("JSON Schema conversion failed: ") + e.what());
  }
}

}  // namespace

Expected<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema, const JsonGrammarOptions& options) {
  std::string out;
  MINNOW_TRY(convert(schema, "", out, options));
  return out;
}

std::string json_object_gbnf() {
  auto g = json_schema_to_gbnf(nlohmann::ordered_json{{"type", "object"}});
  return g.ok() ? *g : std::string();
}

Expected<std::string> append_json_schema_rules(const nlohmann::ordered_json& schema, std::string_view prefix,
                                               std::string& gbnf_out, const JsonGrammarOptions& options) {
  if (!valid_rule_name(prefix))
    return invalid_argument("grammar rule prefix \"" + std::string(prefix) + "\" must match [a-zA-Z0-9-]+");
  if (prefix_in_use(gbnf_out, prefix))
    return invalid_argument("grammar rule prefix \"" + std::string(prefix) + "\" is already used");
  std::string rules;
  MINNOW_ASSIGN_OR_RETURN(std::string root, convert(schema, std::string(prefix), rules, options));
  if (!gbnf_out.empty() && gbnf_out.back() != '\n') gbnf_out += '\n';
  gbnf_out += rules;
  return root;
}

}  // namespace minnow
