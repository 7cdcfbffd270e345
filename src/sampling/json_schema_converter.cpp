// The Converter's frame: rule naming and limits, the fixed rules, the walk
// that dispatches on a schema's kind, and the productivity check.
#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <cmath>

namespace minnow::json_schema {

using namespace gbnf;  // NOLINT: the converter is written in these pieces

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

Expected<std::string> Converter::run(std::string& out) {
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

std::string Converter::full(std::string_view local) const {
  return prefix_.empty() ? std::string(local) : prefix_ + "-" + std::string(local);
}

std::string Converter::sanitize(std::string_view hint) {
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

std::string Converter::child_hint(const std::string& parent, std::string_view key) {
  std::string s = parent.empty() ? sanitize(key) : parent + "-" + sanitize(key);
  return s.size() > kMaxHintChars ? s.substr(0, kMaxHintChars) : s;
}

std::string Converter::new_name(const std::string& hint) {
  const std::string base = full(sanitize(hint));
  std::string name = base;
  for (int i = 2; used_names_.count(name); ++i) name = base + "-" + std::to_string(i);
  used_names_.insert(name);
  return name;
}

Status Converter::check_limits(size_t more_bytes) {
  size_t prims = std::count(std::begin(prim_used_), std::end(prim_used_), true);
  if (rules_.size() + prims + 1 > opt_.max_rules)
    return resource_limit("JSON Schema needs more than " + std::to_string(opt_.max_rules) + " grammar rules");
  bytes_ += more_bytes;
  if (bytes_ > kMaxGbnfBytes)
    return resource_limit("JSON Schema grammar exceeds " + std::to_string(kMaxGbnfBytes) + " bytes");
  return Status::success();
}

Expected<Expr> Converter::add_rule(const std::string& hint, Expr body, const std::string& path) {
  if (hint.empty()) return body;
  if (auto it = by_body_.find(body.text); it != by_body_.end()) return Expr{it->second, Need::on(it->second)};
  MINNOW_TRY(check_limits(body.text.size()));
  std::string name = new_name(hint);
  by_body_[body.text] = name;
  needs_[name] = body.need;
  rules_.push_back({name, std::move(body.text), path});
  return Expr{name, Need::on(name)};
}

Expected<Expr> Converter::reusable(const std::string& hint, Expr e, const std::string& path) {
  bool is_name = !e.text.empty() && std::all_of(e.text.begin(), e.text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (is_name) return e;
  return add_rule(hint.empty() ? "item" : hint, std::move(e), path);
}

std::string Converter::prim(Prim p) {
  if (!prim_used_[p]) {
    prim_used_[p] = true;  // before the body: bodies refer to each other
    prim_bodies_[p] = prim_body(p);
  }
  return full(kPrimNames[p]);
}

std::string Converter::ws() { return opt_.compact ? "" : prim(kWs); }

std::string Converter::prim_body(Prim p) {
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

Expr Converter::any_value() { return {prim(kValue), Need::yes()}; }

Expected<Expr> Converter::visit(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
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

Expected<Expr> Converter::visit_child(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
  std::set<std::string> saved = std::move(unguarded_refs_);
  unguarded_refs_.clear();
  auto e = visit(s, path, hint, depth + 1);
  unguarded_refs_ = std::move(saved);
  return e;
}

Expr Converter::alternatives(std::vector<Expr> alts) {
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

Status Converter::check_keywords(const Json& s, const std::string& path) {
  for (const auto& [key, value] : s.items()) {
    if (is_annotation(key)) continue;
    if (key == "uniqueItems" && !(value.is_boolean() && !value.get<bool>()))
      return unsupported("JSON Schema keyword 'uniqueItems' at " + where(path) + " is not supported");
    if (!is_handled(key)) return unsupported("JSON Schema keyword '" + key + "' at " + where(path) + " is not supported");
  }
  return Status::success();
}

Status Converter::only_with(const Json& s, const std::string& path, std::string_view keyword,
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

Expected<std::vector<std::string>> Converter::schema_types(const Json& s, const std::string& path) {
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

Expected<Expr> Converter::visit_typed(const Json& s, const std::string& type, const std::string& path,
                           const std::string& hint, uint32_t depth) {
  if (type == "string") return visit_string(s, path);
  if (type == "integer" || type == "number") return visit_number(s, path, type == "integer");
  if (type == "boolean") return Expr{prim(kBoolean), Need::yes()};
  if (type == "null") return Expr{prim(kNull), Need::yes()};
  if (type == "object") return visit_object(s, path, hint, depth);
  return visit_array(s, path, hint, depth);
}

bool Converter::finishes(const Need& need, const std::set<std::string>& good) const {
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

Status Converter::check_productive(const Expr& root) const {
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

}  // namespace minnow::json_schema
