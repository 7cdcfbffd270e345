// Objects: declared members in order, required or optional, and extra keys.
#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <cmath>

namespace minnow::json_schema {

using namespace gbnf;  // NOLINT: the converter is written in these pieces

namespace {

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

}  // namespace

Expected<Expr> Converter::key_value(const std::string& key, Expr value, const std::string& path) {
  MINNOW_ASSIGN_OR_RETURN(std::string key_json, dump(Json(key), path));
  return Expr{seq({gbnf_literal(key_json), ws(), "\":\"", ws(), value.text, ws()}), std::move(value.need)};
}

Expected<std::string> Converter::extra_key(const std::vector<Member>& members, const std::string& path) {
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

Expected<Expr> Converter::visit_object(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
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

Expected<Expr> Converter::object_rule(const std::vector<Member>& members, const std::string& extras_tail,
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

}  // namespace minnow::json_schema
