// $ref, anyOf/oneOf, allOf, enum and const.
#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <cmath>

namespace minnow::json_schema {

using namespace gbnf;  // NOLINT: the converter is written in these pieces

std::string Converter::ref_hint(std::string_view pointer) {
  size_t slash = pointer.rfind('/');
  std::string_view last = slash == std::string_view::npos ? pointer : pointer.substr(slash + 1);
  return last.empty() ? "root" : std::string(last);
}

Expected<Expr> Converter::visit_ref(const Json& s, const std::string& path, uint32_t depth) {
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

Expected<Expr> Converter::visit_any_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
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

Expected<Expr> Converter::visit_all_of(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
  MINNOW_TRY(only_with(s, path, "allOf", {}));
  const Json& list = s.at("allOf");
  if (!list.is_array() || list.size() != 1)
    return unsupported("'allOf' at " + where(path) + " is supported only with exactly one schema");
  return visit(list[0], path + "/allOf/0", hint, depth + 1);
}

Expected<std::string> Converter::dump(const Json& v, const std::string& path) {
  try {
    return v.dump();
  } catch (const std::exception&) {
    return invalid_argument("JSON Schema at " + where(path) + " holds a string that is not valid UTF-8");
  }
}

Expected<Expr> Converter::visit_enum(const Json& s, const std::string& path) {
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

}  // namespace minnow::json_schema
