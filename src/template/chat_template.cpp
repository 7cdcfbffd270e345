#include "template/chat_template.h"

#include <cstdio>
#include <ctime>
#include <exception>
#include <new>

#include "template/interpreter.h"
#include "template/json_value.h"
#include "template/parser.h"

namespace minnow {

const char kChatMlFallbackTemplate[] =
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] if message['content'] is string else '')"
    " + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

namespace {

Error to_error(const tmpl::TemplateError& e) {
  std::string message = "chat template";
  if (e.has_pos())
    message += " line " + std::to_string(e.pos().line) + ", column " + std::to_string(e.pos().column);
  message += ": " + e.message();
  switch (e.kind()) {
    case tmpl::TemplateErrorKind::kSyntax: return corrupt(std::move(message));
    case tmpl::TemplateErrorKind::kUnsupported: return unsupported(std::move(message));
    case tmpl::TemplateErrorKind::kLimit: return resource_limit(std::move(message));
    case tmpl::TemplateErrorKind::kRender: break;
  }
  return invalid_argument(std::move(message));
}

Expected<std::tm> resolve_date(const std::optional<std::string>& now_date) {
  std::tm tm{};
  if (!now_date) {
    const std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
    return tm;
  }
  int y = 0, m = 0, d = 0;
  char extra = 0;
  if (std::sscanf(now_date->c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 ||
      d > 31 || y < 1900)
    return invalid_argument("date '" + *now_date + "' is not YYYY-MM-DD");
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  // timegm fills in the weekday and day of the year (%a, %j) without time zones.
  const std::time_t t = timegm(&tm);
  gmtime_r(&t, &tm);
  return tm;
}

Expected<std::string> render_with(std::string_view source,
                                  std::vector<std::pair<std::string, nlohmann::ordered_json>> variables,
                                  const TemplateLimits& limits, const std::optional<std::string>& now_date) {
  MINNOW_ASSIGN_OR_RETURN(const std::tm now, resolve_date(now_date));
  try {
    const tmpl::TemplateAst ast = tmpl::parse_template(source, limits.max_nesting);
    std::vector<std::pair<std::string, tmpl::Value>> context;
    for (auto& [name, json] : variables) {
      bool replaced = false;
      tmpl::Value v = tmpl::value_from_json(json);
      for (auto& [existing, value] : context) {
        if (existing == name) {
          value = v;
          replaced = true;
        }
      }
      if (!replaced) context.emplace_back(name, std::move(v));
    }
    tmpl::Interpreter interp(limits, now);
    return interp.render(ast, std::move(context));
  } catch (const tmpl::TemplateError& e) {
    return to_error(e);
  } catch (const std::bad_alloc&) {
    return resource_limit("chat template: out of memory while rendering");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("chat template: ") + e.what());
  }
}

}  // namespace

Expected<std::string> render_chat_template(std::string_view source, const ChatTemplateInputs& inputs,
                                           const TemplateLimits& limits) {
  std::vector<std::pair<std::string, nlohmann::ordered_json>> vars = {
      {"messages", inputs.messages},
      {"tools", inputs.tools},
      {"documents", nullptr},
      {"add_generation_prompt", inputs.add_generation_prompt},
      {"bos_token", inputs.bos_token},
      {"eos_token", inputs.eos_token},
  };
  if (!inputs.extra_context.is_null() && !inputs.extra_context.is_object())
    return invalid_argument("chat template: extra_context must be a JSON object");
  if (inputs.extra_context.is_object())
    for (const auto& [k, v] : inputs.extra_context.items()) vars.emplace_back(k, v);
  return render_with(source, std::move(vars), limits, inputs.now_date);
}

Expected<std::string> render_template(std::string_view source, const nlohmann::ordered_json& variables,
                                      const TemplateLimits& limits, const std::optional<std::string>& now_date) {
  if (!variables.is_object()) return invalid_argument("template variables must be a JSON object");
  std::vector<std::pair<std::string, nlohmann::ordered_json>> vars;
  for (const auto& [k, v] : variables.items()) vars.emplace_back(k, v);
  return render_with(source, std::move(vars), limits, now_date);
}

Status check_template_syntax(std::string_view source, const TemplateLimits& limits) {
  try {
    (void)tmpl::parse_template(source, limits.max_nesting);
    return Status::success();
  } catch (const tmpl::TemplateError& e) {
    return to_error(e);
  } catch (const std::bad_alloc&) {
    return resource_limit("chat template: out of memory while parsing");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("chat template: ") + e.what());
  }
}

}  // namespace minnow
