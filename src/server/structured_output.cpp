#include "server/structured_output.h"

#include "sampling/json_schema_grammar.h"

namespace minnow {

using Json = nlohmann::ordered_json;

namespace {

Error bad(const std::string& param, const std::string& message) { return invalid_argument(message).with_field(param); }

// A grammar the request wrote or we generated; its errors belong to `param`.
Expected<std::shared_ptr<const Grammar>> compile(const std::string& gbnf, const std::string& param) {
  auto g = Grammar::parse(gbnf);
  if (!g.ok()) return bad(param, g.error().message());
  return std::move(*g);
}

Expected<std::shared_ptr<const Grammar>> from_schema(const Json& schema, const std::string& param) {
  auto gbnf = json_schema_to_gbnf(schema);
  if (!gbnf.ok()) {
    Error e = gbnf.error();
    return Error(e.code(), "'" + param + "': " + e.message()).with_field(param);
  }
  return compile(*gbnf, param);
}

// OpenAI's rule for function names; it also keeps them safe inside grammars.
bool valid_function_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace

Expected<std::shared_ptr<const Grammar>> read_output_constraint(const Json& body) {
  std::shared_ptr<const Grammar> grammar;
  if (auto it = body.find("response_format"); it != body.end() && !it->is_null()) {
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string())
      return bad("response_format", "'response_format' must be an object with a 'type'");
    const std::string type = (*it)["type"].get<std::string>();
    if (type == "json_object") {
      MINNOW_ASSIGN_OR_RETURN(grammar, compile(json_object_gbnf(), "response_format"));
    } else if (type == "json_schema") {
      auto js = it->find("json_schema");
      if (js == it->end() || !js->is_object())
        return bad("response_format", "'response_format.json_schema' must be an object");
      auto schema = js->find("schema");
      if (schema == js->end()) return bad("response_format", "'response_format.json_schema.schema' is required");
      if (auto name = js->find("name"); name != js->end() && !name->is_string())
        return bad("response_format", "'response_format.json_schema.name' must be a string");
      if (auto strict = js->find("strict"); strict != js->end() && !strict->is_null() && !strict->is_boolean())
        return bad("response_format", "'response_format.json_schema.strict' must be true or false");
      MINNOW_ASSIGN_OR_RETURN(grammar, from_schema(*schema, "response_format"));
    } else if (type != "text") {
      return bad("response_format", "unknown response_format type '" + type + "' (text, json_object, json_schema)");
    }
  }
  if (auto it = body.find("grammar"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return bad("grammar", "'grammar' must be GBNF text");
    if (grammar) return bad("grammar", "give either 'grammar' or a JSON 'response_format', not both");
    MINNOW_ASSIGN_OR_RETURN(grammar, compile(it->get<std::string>(), "grammar"));
  }
  return grammar;
}

Expected<ToolsRequest> read_tools(const Json& body) {
  ToolsRequest out;
  if (auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return bad("tools", "'tools' must be a list");
    if (it->size() > 128) return bad("tools", "'tools' takes at most 128 functions");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& t = (*it)[i];
      const std::string param = "tools[" + std::to_string(i) + "]";
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object())
        return bad(param, "each tool must be {\"type\": \"function\", \"function\": {...}}");
      const Json& f = t["function"];
      if (!f.contains("name") || !f["name"].is_string() || !valid_function_name(f["name"].get<std::string>()))
        return bad(param + ".function.name", "function names are 1 to 64 of a-z, A-Z, 0-9, '_' and '-'");
      for (const auto& other : out.tools)
        if (other["function"]["name"] == f["name"])
          return bad(param + ".function.name", "two tools are named '" + f["name"].get<std::string>() + "'");
      if (f.contains("description") && !f["description"].is_string())
        return bad(param + ".function.description", "'description' must be a string");
      if (f.contains("parameters") && !f["parameters"].is_object())
        return bad(param + ".function.parameters", "'parameters' must be a JSON schema object");
      out.tools.push_back(t);
    }
  }
  if (auto it = body.find("tool_choice"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      const std::string c = it->get<std::string>();
      if (c == "auto") out.choice = ToolChoice::kAuto;
      else if (c == "none") out.choice = ToolChoice::kNone;
      else if (c == "required") out.choice = ToolChoice::kRequired;
      else return bad("tool_choice", "'tool_choice' must be auto, none, required or a function");
    } else if (it->is_object() && it->value("type", "") == "function" && it->contains("function") &&
               (*it)["function"].is_object() && (*it)["function"].contains("name") &&
               (*it)["function"]["name"].is_string()) {
      out.choice = ToolChoice::kNamed;
      out.named = (*it)["function"]["name"].get<std::string>();
      bool found = false;
      for (const auto& t : out.tools) found = found || t["function"]["name"] == out.named;
      if (!found) return bad("tool_choice", "tool_choice names '" + out.named + "', which is not among 'tools'");
    } else {
      return bad("tool_choice", "'tool_choice' must be auto, none, required or {\"type\":\"function\",...}");
    }
    if (out.choice != ToolChoice::kNone && out.choice != ToolChoice::kAuto && out.tools.empty())
      return bad("tool_choice", "'tool_choice' needs 'tools'");
  }
  if (auto it = body.find("parallel_tool_calls"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad("parallel_tool_calls", "'parallel_tool_calls' must be true or false");
    out.parallel = it->get<bool>();
  }
  return out;
}

Expected<std::shared_ptr<const Grammar>> tool_call_grammar(ToolCallFormat format, const ToolsRequest& tools) {
  const ToolCallSyntax syn = tool_call_syntax(format == ToolCallFormat::kNone ? ToolCallFormat::kHermes : format);
  std::string rules;
  std::string calls;
  size_t n = 0;
  for (const auto& t : tools.tools) {
    const Json& f = t["function"];
    const std::string name = f["name"].get<std::string>();
    if (tools.choice == ToolChoice::kNamed && name != tools.named) continue;
    const Json params = f.contains("parameters") ? f["parameters"] : Json{{"type", "object"}};
    const std::string rule = "call" + std::to_string(n++);
    auto args = append_json_schema_rules(params, rule + "-args", rules);
    if (!args.ok()) {
      Error e = args.error();
      return Error(e.code(), "tool '" + name + "' parameters: " + e.message()).with_field("tools");
    }
    std::string body;
    if (!syn.name_key.empty()) {
      body = gbnf_literal("{") + " tcws " + gbnf_literal("\"" + syn.name_key + "\"") + " tcws " + gbnf_literal(":") +
             " tcws " + gbnf_literal("\"" + name + "\"") + " tcws " + gbnf_literal(",") + " tcws " +
             gbnf_literal("\"" + syn.args_key + "\"") + " tcws " + gbnf_literal(":") + " tcws " + *args + " tcws " +
             gbnf_literal("}");
    } else {
      body = gbnf_literal(name + syn.name_end) + " " + *args;
    }
    rules += rule + " ::= " + body + "\n";
    calls += (calls.empty() ? "" : " | ") + rule;
  }
  rules += "call ::= " + calls + "\n";
  rules += "tcws ::= [ \\n]?\n";
  const bool many = syn.parallel && tools.parallel;
  std::string root = "root ::= " + gbnf_literal(syn.prefix) + " ";
  if (syn.array_wrapped) {
    root += gbnf_literal(syn.begin + "[") + " call" + (many ? " (" + gbnf_literal(syn.separator) + " call)*" : "") +
            " " + gbnf_literal("]" + syn.end);
  } else {
    const std::string one = gbnf_literal(syn.begin) + " call " + gbnf_literal(syn.end);
    root += one + (many ? " (" + gbnf_literal(syn.separator) + " " + one + ")*" : "");
  }
  root += " " + gbnf_literal(syn.suffix) + "\n";
  auto g = Grammar::parse(root + rules);
  if (!g.ok()) return Error(ErrorCode::kInternal, "tool-call grammar: " + g.error().message()).with_field("tools");
  return std::move(*g);
}

}  // namespace minnow
