// JSON Schema -> GBNF: each schema's grammar must accept exactly the JSON
// texts the schema allows (within the documented choices), and everything
// the converter cannot express must be an error naming keyword and path.
#include "sampling/json_schema_grammar.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sampling/grammar.h"

namespace minnow {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const Grammar> compile_gbnf(const std::string& gbnf) {
  auto g = Grammar::parse(gbnf);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().to_string()) << "\n" << gbnf;
  return g.ok() ? *g : nullptr;
}

std::shared_ptr<const Grammar> compile(const std::string& schema, const JsonGrammarOptions& options = {}) {
  auto gbnf = json_schema_to_gbnf(Json::parse(schema), options);
  EXPECT_TRUE(gbnf.ok()) << (gbnf.ok() ? "" : gbnf.error().to_string());
  return gbnf.ok() ? compile_gbnf(*gbnf) : nullptr;
}

struct SchemaCase {
  const char* schema;
  std::vector<const char*> accept;
  std::vector<const char*> reject;
};

void check_cases(const std::vector<SchemaCase>& cases, const JsonGrammarOptions& options = {}) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.schema);
    auto g = compile(c.schema, options);
    ASSERT_TRUE(g);
    for (const char* t : c.accept) EXPECT_TRUE(grammar_accepts(*g, t)) << "should accept: " << t;
    for (const char* t : c.reject) EXPECT_FALSE(grammar_accepts(*g, t)) << "should reject: " << t;
  }
}

TEST(JsonSchemaGrammar, Primitives) {
  check_cases({
      {R"({"type":"string"})",
       {R"("")", R"("abc")", R"("a\"b")", R"("\\ \/ \b \f \n \r \t")", R"("\u00e9\uD83D\uDE00")", "\"é 中 🙂\""},
       {"abc", R"("a)", R"("\x")", R"("a"b")", "\"a\nb\"", "\"\t\"", R"("\u12")", R"("\u12G4")", R"( "a")"}},
      {R"({"type":"integer"})", {"0", "-5", "123", "-1234567890123456789012"}, {"01", "1.0", "-", "1e3", " 1", "+1", ""}},
      {R"({"type":"number"})",
       {"0", "-0.5", "1e10", "1.5E-3", "2e+7", "-0", "10.01"},
       {"01", ".5", "1.", "+1", "1e", "--1", "0x10", "NaN", "Infinity"}},
      {R"({"type":["boolean","null"]})", {"true", "false", "null"}, {R"("true")", "0", "nul", "True"}},
      {R"({})", {"1", R"("s")", R"([1,{"a":null}])", "null", "{}", "[ ]"}, {"", "nope", "[1,]"}},
      {"true", {"1", R"({"a":[true]})"}, {"{"}},
  });
}

TEST(JsonSchemaGrammar, ObjectsKeepDeclaredOrderAndRequiredness) {
  check_cases({
      {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
           "tags":{"type":"array","items":{"type":"string"}}},"required":["name"]})",
       {R"({"name":"a"})", R"({"name":"a","age":3})", R"({"name":"a","tags":[]})",
        R"({"name":"a","age":3,"tags":["x","y"]})", "{\n  \"name\": \"a\",\n  \"age\": 3\n}",
        R"({ "name" : "a" , "tags" : [ "x" ] })"},
       {"{}", R"({"age":3})", R"({"age":3,"name":"a"})", R"({"name":"a","extra":1})", R"({"name":"a",})",
        R"({"name":1})", R"({"name":"a","age":"3"})", R"({"name":"a" "age":3})"}},
      // All optional: any subset, in order, commas only between present members.
      {R"({"properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}}})",
       {"{}", R"({"a":1})", R"({"b":2})", R"({"c":3})", R"({"a":1,"c":3})", R"({"b":1,"c":2})",
        R"({"a":1,"b":2,"c":3})"},
       {R"({,"a":1})", R"({"a":1,})", R"({"c":1,"a":2})", R"({"a":1,,"b":2})", R"({"a":1,"a":1})"}},
      // Optional members around required ones.
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"},
           "d":{"type":"integer"}},"required":["b","d"]})",
       {R"({"b":1,"d":2})", R"({"a":0,"b":1,"d":2})", R"({"b":1,"c":5,"d":2})", R"({"a":0,"b":1,"c":5,"d":2})"},
       {R"({"b":1})", R"({"d":1})", R"({"a":0,"d":2})", R"({"a":0,"c":1,"d":2})", R"({"d":2,"b":1})"}},
      // Nested objects; OpenAI strict style.
      {R"({"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},
           "email":{"type":["string","null"]}},"required":["id","email"],"additionalProperties":false}},
           "required":["user"],"additionalProperties":false})",
       {R"({"user":{"id":1,"email":null}})", R"({"user":{"id":1,"email":"x@y"}})"},
       {R"({"user":{"id":1}})", R"({"user":{"email":null,"id":1}})", R"({"user":null})"}},
      // A required key that is not declared takes any value.
      {R"({"type":"object","required":["k"]})", {R"({"k":1})", R"({"k":[],"z":2})"}, {"{}", R"({"z":2})"}},
  });
}

TEST(JsonSchemaGrammar, AdditionalProperties) {
  check_cases({
      {R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],
           "additionalProperties":{"type":"string"}})",
       {R"({"id":1})", R"({"id":1,"x":"y"})", R"({"id":1,"x":"y","z":"w"})"},
       {R"({"id":1,"x":2})", R"({"x":"y"})", R"({"x":"y","id":1})"}},
      {R"({"type":"object","additionalProperties":true})", {"{}", R"({"a":{"b":[1]}})"}, {"[]", R"({"a"})"}},
      {R"({"type":"object","additionalProperties":false})", {"{}", "{ }"}, {R"({"a":1})"}},
      {R"({"type":"object","additionalProperties":{"type":"integer"}})",
       {"{}", R"({"a":1})", R"({"a":1,"b":2})"},
       {R"({"a":"x"})", R"({"a":1,"b":"x"})", R"({"a":1,})"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true})",
       {"{}", R"({"a":1})", R"({"a":1,"b":"x"})", R"({"b":"x"})", R"({"b":"x","c":null})"},
       {R"({"a":"x"})", R"({,"b":1})"}},
      // Extra keys may not reuse a declared name (nor spell it with escapes).
      {R"({"type":"object","properties":{"ab":{"type":"integer"},"é":{"type":"null"}},
           "additionalProperties":{"type":"string"}})",
       {R"({"a":"x"})", R"({"abc":"x"})", R"({"b":"x"})", R"({"":"x"})", R"({"ab":1,"ab2":"y"})", "{\"éé\":\"x\"}",
        R"({"e":"x"})"},
       {R"({"ab":"x"})", R"({"ab":1,"ab":"x"})", "{\"é\":\"x\"}", R"({"\u0061b":"x"})"}},
  });
}

TEST(JsonSchemaGrammar, EnumAndConst) {
  check_cases({
      {R"({"enum":["red","green",1,null,{"a":[1,2]},"q\"uote"]})",
       {R"("red")", R"("green")", "1", "null", R"({"a":[1,2]})", R"("q\"uote")"},
       {R"("blue")", "2", R"({"a": [1,2]})", R"("Red")", "\"red\" "}},
      {R"({"const":"x"})", {R"("x")"}, {R"("y")", "x"}},
      {R"({"type":"string","enum":["a",1]})", {R"("a")"}, {"1"}},
      {R"({"enum":["a","b"],"const":"b"})", {R"("b")"}, {R"("a")"}},
      {R"({"enum":["é"]})", {"\"é\""}, {R"("e")"}},
  });
}

TEST(JsonSchemaGrammar, Arrays) {
  check_cases({
      {R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})",
       {"[1]", "[1,2,3]", "[ 1 , 2 ]", "[\n  1,\n  2\n]"},
       {"[]", "[1,2,3,4]", "[1,]", R"(["a"])", "[,1]"}},
      {R"({"type":"array","items":{"type":"integer"},"minItems":2})", {"[1,2]", "[1,2,3,4,5]"}, {"[]", "[1]"}},
      {R"({"type":"array","maxItems":0})", {"[]"}, {"[1]"}},
      {R"({"type":"array","items":{"type":"boolean"},"maxItems":2})", {"[]", "[true]", "[true,false]"},
       {"[true,true,true]"}},
      {R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]})",
       {"[]", R"(["a"])", R"(["a",1])"},
       {R"(["a",1,2])", "[1]", R"(["a","b"])"}},
      {R"({"prefixItems":[{"type":"string"}],"items":{"type":"integer"},"minItems":2})",
       {R"(["a",1])", R"(["a",1,2])"},
       {R"(["a"])", "[]", R"(["a","b"])"}},
      {R"({"type":"array","items":[{"type":"null"}],"additionalItems":{"type":"boolean"}})",
       {"[]", "[null]", "[null,true,false]"},
       {"[true]", "[null,null]"}},
      {R"({"type":"array","items":{"type":"array","items":{"type":"integer"},"maxItems":2}})",
       {"[]", "[[]]", "[[1,2],[3]]"},
       {"[[1,2,3]]", "[1]"}},
  });
}

TEST(JsonSchemaGrammar, LongTuples) {
  Json schema = Json::parse(R"({"type":"array","minItems":20,"prefixItems":[]})");
  for (int i = 0; i < 30; ++i) schema["prefixItems"].push_back(Json{{"type", "integer"}});
  auto gbnf = json_schema_to_gbnf(schema);
  ASSERT_TRUE(gbnf.ok()) << gbnf.error().to_string();
  auto g = compile_gbnf(*gbnf);
  ASSERT_TRUE(g);
  for (int n = 0; n <= 31; ++n) {
    std::string text = "[";
    for (int i = 0; i < n; ++i) text += (i ? "," : "") + std::to_string(i);
    text += "]";
    EXPECT_EQ(grammar_accepts(*g, text), n >= 20 && n <= 30) << text;
  }
}

TEST(JsonSchemaGrammar, AnyOfAllOfAndRefs) {
  check_cases({
      {R"({"type":"object","properties":{"pet":{"anyOf":[
           {"type":"object","properties":{"kind":{"const":"cat"},"lives":{"type":"integer"}},"required":["kind","lives"]},
           {"type":"object","properties":{"kind":{"const":"dog"}},"required":["kind"]}]}},"required":["pet"]})",
       {R"({"pet":{"kind":"cat","lives":9}})", R"({"pet":{"kind":"dog"}})"},
       {R"({"pet":{"kind":"cat"}})", R"({"pet":{"kind":"dog","lives":1}})", R"({"pet":{"kind":"cow"}})"}},
      {R"({"oneOf":[{"type":"integer"},{"type":"string","maxLength":1}]})", {"5", R"("a")"}, {R"("ab")", "null"}},
      {R"({"allOf":[{"type":"integer"}],"description":"just one"})", {"5"}, {R"("5")"}},
      {R"({"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},
           "children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["value"]}},
           "$ref":"#/$defs/node"})",
       {R"({"value":1})", R"({"value":1,"children":[{"value":2,"children":[]},{"value":3}]})"},
       {R"({"children":[]})", R"({"value":1,"children":[{}]})"}},
      {R"({"definitions":{"s":{"type":"string","title":"S"}},"type":"array","items":{"$ref":"#/definitions/s"}})",
       {"[]", R"(["a","b"])"}, {"[1]"}},
      {R"({"type":"object","properties":{"next":{"$ref":"#"}}})", {"{}", R"({"next":{"next":{}}})"},
       {R"({"next":1})"}},
      // Pydantic's Optional[...] shape.
      {R"({"anyOf":[{"type":"string"},{"type":"null"}],"default":null,"title":"Name"})", {R"("x")", "null"}, {"1"}},
  });
}

TEST(JsonSchemaGrammar, StringFormatsAndLengths) {
  check_cases({
      {R"({"type":"string","minLength":2,"maxLength":3})",
       {R"("ab")", R"("abc")", R"("a\nb")", "\"éé\""},
       {R"("a")", R"("abcd")", R"("")"}},
      {R"({"type":"string","format":"date"})", {R"("2024-02-29")", R"("1999-12-31")"},
       {R"("2024-13-01")", R"("2024-1-01")", R"("2024-01-32")", R"("24-01-01")", R"("2024-01-00")"}},
      {R"({"type":"string","format":"time"})", {R"("23:59:60Z")", R"("08:30:00.123+02:00")"},
       {R"("24:00:00Z")", R"("08:30:00")", R"("8:30:00Z")"}},
      {R"({"type":"string","format":"date-time"})", {R"("2024-05-01T08:30:00Z")", R"("2024-05-01t08:30:00-05:00")"},
       {R"("2024-05-01 08:30:00Z")", R"("2024-05-01")"}},
      {R"({"type":"string","format":"uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"},
       {R"("123e4567e89b12d3a456426614174000")", R"("123e4567-e89b-12d3-a456-42661417400g")"}},
      {R"({"type":"string","format":"email"})", {R"("a.b+c@example.co.uk")", R"("x@y-z.io")"},
       {R"("a@b")", R"("@b.com")", R"("a..b@c.com")", R"("a@-b.com")", R"("a b@c.com")"}},
      {R"({"type":"string","format":"ipv4"})", {R"("192.168.0.1")", R"("255.255.255.255")", R"("0.0.0.0")"},
       {R"("256.1.1.1")", R"("01.1.1.1")", R"("1.1.1")"}},
  });
}

// Every integer in [-250, 250] is accepted exactly when inside the bounds.
TEST(JsonSchemaGrammar, IntegerBoundsAreExact) {
  struct Range {
    const char* schema;
    long lo, hi;
  };
  const std::vector<Range> ranges = {
      {R"({"type":"integer","minimum":-15,"maximum":120})", -15, 120},
      {R"({"type":"integer","minimum":0,"maximum":0})", 0, 0},
      {R"({"type":"integer","minimum":7,"maximum":7})", 7, 7},
      {R"({"type":"integer","minimum":9,"maximum":10})", 9, 10},
      {R"({"type":"integer","minimum":99,"maximum":101})", 99, 101},
      {R"({"type":"integer","minimum":-200,"maximum":-101})", -200, -101},
      {R"({"type":"integer","exclusiveMinimum":9})", 10, 1000},
      {R"({"type":"integer","maximum":-3})", -1000, -3},
      {R"({"type":"integer","minimum":1.5,"exclusiveMaximum":37.5})", 2, 37},
      {R"({"type":"integer","minimum":5,"exclusiveMinimum":5,"maximum":50,"exclusiveMaximum":40})", 6, 39},
      {R"({"type":"integer","minimum":10,"exclusiveMinimum":true,"maximum":20})", 11, 20},
  };
  for (const auto& r : ranges) {
    SCOPED_TRACE(r.schema);
    auto g = compile(r.schema);
    ASSERT_TRUE(g);
    for (long v = -250; v <= 250; ++v)
      EXPECT_EQ(grammar_accepts(*g, std::to_string(v)), v >= r.lo && v <= r.hi) << v;
  }
  check_cases({
      {R"({"type":"integer","minimum":-9223372036854775808,"maximum":18446744073709551615})",
       {"-9223372036854775808", "18446744073709551615", "0"},
       {"-9223372036854775809", "18446744073709551616", "01"}},
      {R"({"type":"integer","minimum":1000})", {"1000", "123456789012345678901234567890"}, {"999", "0999", "-1000"}},
  });
}

TEST(JsonSchemaGrammar, NumberBoundsWithIntegerValues) {
  check_cases({
      {R"({"type":"number","minimum":0,"maximum":1})",
       {"0", "0.5", "1", "1.0", "1.00", "0.999", "0.0"},
       {"1.01", "-0.5", "2", "1e0", "-1"}},
      {R"({"type":"number","exclusiveMinimum":0})", {"0.001", "5", "12.5"}, {"0", "0.000", "-1", "-0.5"}},
      {R"({"type":"number","minimum":-2,"exclusiveMaximum":3})",
       {"-2", "-2.0", "-1.5", "0", "2.999", "-0.1"},
       {"-2.01", "3", "3.0", "-3"}},
      {R"({"type":"number","maximum":-1})", {"-1", "-1.0", "-1.5", "-100"}, {"-0.9", "0", "1"}},
      {R"({"type":"number","exclusiveMaximum":0})", {"-0.1", "-3"}, {"0", "-0", "-0.0", "1"}},
  });
}

TEST(JsonSchemaGrammar, CompactHasNoWhitespaceAndWsIsBounded) {
  check_cases({{R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}}})",
                {R"({"a":[1,2]})", "{}"},
                {R"({"a": [1,2]})", R"({ "a":[1,2]})", R"({"a":[1, 2]})"}}},
              JsonGrammarOptions{.compact = true});
  auto g = compile(R"({"type":"array","items":{"type":"integer"}})");
  ASSERT_TRUE(g);
  EXPECT_TRUE(grammar_accepts(*g, "[\n" + std::string(40, ' ') + "1]"));
  EXPECT_FALSE(grammar_accepts(*g, "[\n" + std::string(41, ' ') + "1]"));
  EXPECT_TRUE(grammar_accepts(*g, "[" + std::string(8, ' ') + "1]"));
  EXPECT_FALSE(grammar_accepts(*g, "[" + std::string(9, ' ') + "1]"));
  EXPECT_FALSE(grammar_accepts(*g, "[\n\n1]"));
  EXPECT_TRUE(grammar_accepts(*g, "[\r\n  1\r\n]"));
}

TEST(JsonSchemaGrammar, JsonObjectGrammar) {
  auto g = compile_gbnf(json_object_gbnf());
  ASSERT_TRUE(g);
  for (const char* t : {"{}", R"({"a":[1,{"b":null}],"c":"d"})", "{\n  \"x\": -1.5e3\n}"})
    EXPECT_TRUE(grammar_accepts(*g, t)) << t;
  for (const char* t : {"[]", R"("x")", R"({"a":})", R"({a:1})", "{} ", "1"}) EXPECT_FALSE(grammar_accepts(*g, t)) << t;
}

TEST(JsonSchemaGrammar, AppendEmbedsUnderAPrefix) {
  std::string gbnf = "root ::= \"<call>\" args \"</call>\"\n";
  auto name = append_json_schema_rules(Json::parse(R"({"type":"object","properties":{"x":{"type":"integer"}},
      "required":["x"]})"), "tool-args", gbnf);
  ASSERT_TRUE(name.ok()) << name.error().to_string();
  EXPECT_EQ(*name, "tool-args");
  gbnf.replace(gbnf.find("args"), 4, *name);
  auto g = compile_gbnf(gbnf);
  ASSERT_TRUE(g);
  EXPECT_TRUE(grammar_accepts(*g, R"(<call>{"x":1}</call>)"));
  EXPECT_FALSE(grammar_accepts(*g, R"(<call>{}</call>)"));
  // A second schema under another prefix coexists; a reused or bad prefix is refused.
  auto second = append_json_schema_rules(Json::parse(R"({"type":"string"})"), "other", gbnf);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(compile_gbnf(gbnf));
  EXPECT_FALSE(append_json_schema_rules(Json::parse("{}"), "tool-args", gbnf).ok());
  EXPECT_FALSE(append_json_schema_rules(Json::parse("{}"), "bad_name", gbnf).ok());
  EXPECT_FALSE(append_json_schema_rules(Json::parse("{}"), "", gbnf).ok());
}

TEST(JsonSchemaGrammar, UnsupportedKeywordsAreErrorsNamingKeywordAndPath) {
  struct Bad {
    const char* schema;
    const char* keyword;
    const char* path;
  };
  const std::vector<Bad> bad = {
      {R"({"type":"object","properties":{"code":{"type":"string","pattern":"^a"}}})", "pattern", "#/properties/code"},
      {R"({"type":"number","multipleOf":2})", "multipleOf", "#"},
      {R"({"not":{"type":"string"}})", "not", "#"},
      {R"({"if":{"type":"string"},"then":{"minLength":1}})", "if", "#"},
      {R"({"type":"object","patternProperties":{"^x":{}}})", "patternProperties", "#"},
      {R"({"type":"array","items":{"type":"array","uniqueItems":true}})", "uniqueItems", "#/items"},
      {R"({"type":"object","minProperties":1})", "minProperties", "#"},
      {R"({"type":"array","contains":{"type":"integer"}})", "contains", "#"},
      {R"({"type":"string","format":"uri"})", "format", "#"},
      {R"({"type":"number","minimum":0.5})", "minimum", "#"},
      {R"({"allOf":[{"type":"string"},{"maxLength":3}]})", "allOf", "#"},
      {R"({"$ref":"https://example.com/s.json"})", "$ref", "#"},
      {R"({"$ref":"#/$defs/a","type":"string","$defs":{"a":{}}})", "type", "#"},
      {R"({"anyOf":[{"type":"string"}],"minLength":2})", "minLength", "#"},
      {R"({"enum":["a"],"maxLength":2})", "maxLength", "#"},
      {R"({"type":"string","format":"date","maxLength":5})", "maxLength", "#"},
      {R"({"prefixItems":[{"type":"string","nullable":true}]})", "nullable", "#/prefixItems/0"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.schema);
    auto r = json_schema_to_gbnf(Json::parse(b.schema));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported) << r.error().to_string();
    EXPECT_NE(r.error().message().find(b.keyword), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(std::string(b.path) + " "), std::string::npos) << r.error().message();
  }
}

TEST(JsonSchemaGrammar, HostileSchemasAreErrorsNotCrashes) {
  // 1000 nested objects / arrays.
  std::string deep_object, deep_array;
  for (int i = 0; i < 1000; ++i) {
    deep_object += R"({"type":"object","properties":{"a":)";
    deep_array += R"({"type":"array","items":)";
  }
  deep_object += "{}";
  deep_array += "{}";
  for (int i = 0; i < 1000; ++i) {
    deep_object += "}}";
    deep_array += "}";
  }
  const std::vector<std::string> hostile = {
      deep_object,
      deep_array,
      R"({"$ref":"#"})",
      R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})",
      R"({"anyOf":[{"$ref":"#"},{"type":"null"}]})",
      R"({"type":"object","properties":{"self":{"$ref":"#"}},"required":["self"]})",
      R"({"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"},"minItems":1}},"$ref":"#/$defs/n"})",
      R"({"type":"array","minItems":1000000000})",
      R"({"type":"array","maxItems":1e300})",
      R"({"type":"string","maxLength":1001})",
      R"({"type":"array","minItems":-1})",
      R"({"type":"integer","minimum":1e300})",
      R"({"type":"integer","minimum":5,"maximum":4})",
      R"({"type":"array","minItems":3,"maxItems":2})",
      R"({"$ref":"#/$defs/missing"})",
      R"({"$ref":"#not-a-pointer"})",
      R"({"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false})",
      R"({"type":"frobnicate"})",
      R"({"type":[]})",
      R"({"enum":[]})",
      R"({"type":"string","enum":[1,2]})",
      "false",
      "5",
      R"("string")",
      "[]",
      "null",
  };
  for (const auto& h : hostile) {
    SCOPED_TRACE(h.substr(0, 120));
    auto r = json_schema_to_gbnf(Json::parse(h));
    EXPECT_FALSE(r.ok());
  }
  // Too many rules for the configured limit.
  Json wide = Json::object();
  for (int i = 0; i < 100; ++i)
    wide["properties"]["p" + std::to_string(i)]["properties"]["x" + std::to_string(i)] = Json::object();
  auto r = json_schema_to_gbnf(wide, JsonGrammarOptions{.max_rules = 50});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceLimit);
  EXPECT_TRUE(json_schema_to_gbnf(wide).ok());
  // Invalid UTF-8 built in memory (the parser would refuse it) is an error, not an exception.
  Json bad_utf8 = Json::object();
  bad_utf8["const"] = std::string("\xff\xfe");
  EXPECT_FALSE(json_schema_to_gbnf(bad_utf8).ok());
}

TEST(JsonSchemaGrammar, RuleNamesFromOddPropertyNamesAreValid) {
  check_cases({{R"({"type":"object","properties":{"string":{"type":"object","properties":{"ws":{"type":"integer"}}},
                  "a b/c~d_e":{"type":"object"},"":{"type":"array","items":{"type":"object","properties":{}}},
                  "中文":{"type":"boolean"}},"required":["string"]})",
                {R"({"string":{},"a b/c~d_e":{},"":[{}],"中文":true})", R"({"string":{"ws":1}})"},
                {R"({"string":{"ws":"x"}})", R"({"":[{"x":1}]})"}}});
}

}  // namespace
}  // namespace minnow
