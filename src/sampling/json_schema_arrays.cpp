// Arrays: items, prefixItems, counts.
#include "sampling/json_schema_converter.h"

#include <algorithm>
#include <cmath>

namespace minnow::json_schema {

using namespace gbnf;  // NOLINT: the converter is written in these pieces

Expected<Expr> Converter::visit_array(const Json& s, const std::string& path, const std::string& hint, uint32_t depth) {
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

}  // namespace minnow::json_schema
