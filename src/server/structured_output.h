// The request fields that constrain what a model may write: OpenAI's
// `response_format` (json_object, json_schema), minnow's `grammar` (GBNF, as
// llama.cpp's server takes it), and `tools` / `tool_choice`. Everything is
// checked and compiled while the request is parsed, so a bad schema is a 400
// before any work starts, and unsupported schema keywords are refused
// (fail closed: never unconstrained output presented as constrained).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "sampling/grammar.h"
#include "template/tool_call_format.h"

namespace minnow {

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

struct ToolsRequest {
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();  // validated OpenAI `tools`
  ToolChoice choice = ToolChoice::kAuto;
  std::string named;  // kNamed: the function
  bool parallel = true;  // parallel_tool_calls
  bool active() const { return !tools.empty() && choice != ToolChoice::kNone; }
  bool forced() const { return active() && (choice == ToolChoice::kRequired || choice == ToolChoice::kNamed); }
};

// `response_format` and `grammar`: the grammar to decode with, or null.
Expected<std::shared_ptr<const Grammar>> read_output_constraint(const nlohmann::ordered_json& body);

// `tools`, `tool_choice`, `parallel_tool_calls`.
Expected<ToolsRequest> read_tools(const nlohmann::ordered_json& body);

// The grammar of a reply that is only tool calls (of the offered functions,
// with arguments valid under their `parameters` schema), written the way
// `format`'s models write them. For tool_choice "required" or a named one.
Expected<std::shared_ptr<const Grammar>> tool_call_grammar(ToolCallFormat format, const ToolsRequest& tools);

}  // namespace minnow
