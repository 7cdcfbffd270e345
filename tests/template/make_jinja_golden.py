#!/usr/bin/env python3
"""Regenerates data/jinja_golden.jsonl: hand-written templates rendered by
Python jinja2 configured exactly like Hugging Face's apply_chat_template
(see ../shared/conformance/templates/FORMAT.md). template_golden_test.cpp
renders the same templates with minnow and compares byte for byte.

Run: python3 tests/template/make_jinja_golden.py  (needs python3-jinja2)
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def strftime_now(fmt):
        return datetime(2024, 7, 26).strftime(fmt)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


CTX = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi \u00e9\u4f60\u597d \U0001F44B"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call12345", "type": "function",
             "function": {"name": "f", "arguments": {"b": 2, "a": [1, 2.5, True, None]}}}]},
        {"role": "tool", "content": "{\"x\": 1}"},
    ],
    "d": {"z": 1, "a": {"q": [1, {"k": "v"}]}, "items": "shadowed"},
    "xs": [3, 1, 2, 1],
    "words": ["Banana", "apple", "cherry", "Apple"],
    "people": [{"name": "ann", "age": 31, "tags": ["a"]}, {"name": "bob", "age": 25},
               {"name": "cy", "age": 40, "tags": []}],
    "s": "  Hello, World  ",
    "u": "Привет мир ✓",
    "n": 7, "f": 2.5, "big": 12345678901234, "neg": -7, "t": True, "none": None,
    "empty": "", "el": [], "ed": {},
}

CASES = [
    # whitespace control and HF environment settings
    "a\n  {% if true %}\n    b\n  {% endif %}\nc",
    "a  {% if true %}b{% endif %}  c",
    "x\n    {%- if true -%}\n  y  \n{%- endif %}\nz",
    "{{ 'a' }}\n{{ 'b' }}\n",
    "a\n{# comment #}\nb\n  {#- trimmed -#}  \nc",
    "  {%+ if true %}kept{% endif %}",
    "{% if true +%}\nnot trimmed{% endif %}",
    "{% raw %}{{ not parsed }} {% if %}{% endraw %}\nafter",
    "line1\r\nline2\r\n{% if true %}\r\nx\r\n{% endif %}\r\n",
    "trailing\n\n",
    "{{- '  a  ' -}}   {{ 'b' }}   \n",
    "{% for i in xs %}\n  {{ i }}\n{% endfor %}\n",
    "a {{- ' b ' -}} c",
    # loops
    "{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
    "{% for x in xs %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}",
    "{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "{% for x in xs if x > 1 %}{{ x }}:{{ loop.length }} {% endfor %}",
    "{% for x in el %}never{% else %}empty{% endfor %}",
    "{% for x in xs %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for k in d %}{{ k }},{% endfor %}",
    "{% for c in u %}{{ c }}.{% endfor %}",
    "{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }} {% endfor %}",
    "{% for x in xs %}{% for y in xs %}{{ loop.index }}{% endfor %}|{{ loop.index }} {% endfor %}",
    "{% set total = 0 %}{% for x in xs %}{% set total = total + x %}{% endfor %}{{ total }}",
    "{% set ns = namespace(total=0, items=[]) %}{% for x in xs %}{% set ns.total = ns.total + x %}{% set ns.items = ns.items + [x] %}{% endfor %}{{ ns.total }} {{ ns.items }}",
    "{% for x in undefined_thing %}x{% else %}none{% endfor %}",
    "{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}",
    # set
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
    "{% set x %}  block {{ n }}  {% endset %}[{{ x }}]",
    "{% set x | upper %}block{% endset %}{{ x }}",
    "{% set t = 1, 2 %}{{ t }} {{ (1,) }} {{ () }}",
    # macros
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('ann') }} {{ greet('bob', '?') }} {{ greet(punct='.', name='cy') }}",
    "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * fact(k - 1)|int }}{% endif %}{% endmacro %}{{ fact(6) }}",
    "{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner {{ n }}{% endcall %}",
    "{% macro rows(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) rows(xs) %}[{{ x }}]{% endcall %}",
    "{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}",
    "{% macro m(a, b) %}{{ a }}-{{ b }}-{{ b is defined }}{% endmacro %}{{ m(1) }}",
    "{% set g = 'outer' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}{% set g = 'changed' %}{{ m() }}",
    "{% filter upper %}shout {{ n }}{% endfilter %}",
    # expressions
    "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}",
    "{{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}",
    "{{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1, 2] * 2 }} {{ 'a' ~ 1 ~ none ~ true ~ 2.0 }}",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ [1, 2] < [1, 3] }} {{ 'abc' < 'abd' }}",
    "{{ 'ell' in 'hello' }} {{ 2 in xs }} {{ 'z' in d }} {{ 'q' not in d }} {{ 5 not in xs }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if none else 'no' }} [{{ 'x' if false }}]",
    "{{ none or 'default' }} {{ 0 and 'x' }} {{ 'a' and 'b' }} {{ not empty }} {{ not not 1 }}",
    "{{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[10] }}|{{ xs[5:] }}",
    "{{ u[0] }} {{ u[-1] }} {{ u[:6] }} {{ u[::-1] }} {{ u|length }}",
    "{{ d.z }} {{ d['z'] }} {{ d.a.q[1].k }} {{ d.missing }}|{{ d['items'] }}|{{ people.0.name }}",
    "{{ 'tab\\there' }} {{ \"q'uote\" }} {{ 'new\\nline' }} {{ '\\u00e9\\x41' }} {{ 'a' 'b' }} {{ 'back\\\\slash' }}",
    "{{ 1_000 }} {{ 1.5e3 }} {{ 2E-3 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ -0.0 }} {{ 100.0 }}",
    "{{ big * 1000 }} {{ n * f }} {{ n + f }} {{ neg }} {{ -neg }} {{ +n }} {{ -f }}",
    # python str() of values
    "{{ xs }} {{ d }} {{ (1, 'a') }} {{ [none, true, false, 1.5, 'it\\'s', \"q\\\"\"] }} {{ {'a': [1, {'b': none}]} }}",
    "{{ messages[2] }}",
    "{{ words }} {{ [u] }} {{ ['\\n\\t\\x01'] }}",
    # filters
    "{{ s|trim }}|{{ s|trim('  H') }}|{{ 'xxhixx'|trim('x') }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello wORLD-foo bar1baz'|title }}|{{ 'hELLO'|capitalize }}",
    "{{ 'a-b-c'|replace('-', '+') }} {{ 'a-b-c'|replace('-', '', 1) }} {{ 'abc'|replace('', '.') }}",
    "{{ xs|join(', ') }} {{ xs|join }} {{ people|join('/', attribute='name') }} {{ words|first }} {{ words|last }} {{ 'abc'|first }} {{ el|first }}|",
    "{{ missing|default('dflt') }} {{ empty|default('dflt') }} {{ empty|default('dflt', true) }} {{ none|d('x', boolean=true) }} {{ n|default(0) }}",
    "{{ d|tojson }} {{ messages[2]|tojson }} {{ u|tojson }} {{ [1.0, 2.5e-7, 1e100, 3]|tojson }} {{ none|tojson }} {{ 'q\"\\\\\\n\\u0001'|tojson }}",
    "{{ d|tojson(indent=2) }}\n{{ people|tojson(indent=4, sort_keys=true) }}\n{{ el|tojson(indent=2) }} {{ ed|tojson(indent=2) }}",
    "{{ u|tojson(ensure_ascii=true) }} {{ '\U0001F44B'|tojson(ensure_ascii=true) }} {{ d|tojson(separators=(',', ':')) }}",
    "{{ '42'|int }} {{ ' 7 '|int }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 3.9|int }} {{ true|int }} {{ '1.5'|float }} {{ 'x'|float }} {{ 2|float }} {{ 'ff'|int(base=16) }}",
    "{{ xs|string }} {{ 5|string }} {{ none|string }} {{ xs|list }} {{ 'abc'|list }} {{ d|list }} {{ d|items|list }}",
    "{{ people|selectattr('age', 'gt', 30)|map(attribute='name')|list }} {{ people|rejectattr('tags')|map(attribute='name')|join(',') }} {{ people|selectattr('tags', 'defined')|list|length }}",
    "{{ xs|select('odd')|list }} {{ xs|reject('equalto', 1)|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ people|map(attribute='tags', default='-')|list }}",
    "{{ words|map('upper')|list }} {{ words|map('replace', 'a', 'A')|join(' ') }} {{ words|unique|list }} {{ words|unique(case_sensitive=true)|list }} {{ xs|unique|list }}",
    "{{ words|sort|list }} {{ words|sort(reverse=true)|join(',') }} {{ words|sort(case_sensitive=true)|join(',') }} {{ people|sort(attribute='age')|map(attribute='name')|join(',') }}",
    "{{ d|dictsort }} {{ xs|reverse|list }} {{ 'abc'|reverse }} {{ xs|sum }} {{ xs|min }} {{ xs|max }} {{ words|max }} {{ people|sum(attribute='age') }}",
    "{{ -3|abs }} {{ (-3)|abs }} {{ -2.5|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.567|round(1, 'floor') }} {{ 2.561|round(2, 'ceil') }} {{ 7|round }}",
    "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb\\n\\nc'|indent(2, true) }}|{{ 'a\\nb\\n\\nc'|indent(2, blank=true) }}|{{ 'x'|indent('> ', first=true) }}",
    "{{ '<a href=\"x\">&\\'</a>'|escape }} {{ '<b>'|e }} {{ '<i>'|safe }} {{ '%s-%d'|format('a', 3) }} {{ '%s!' % 'hi' }} {{ '%s and %s' % (1, 2) }}",
    "{{ 'a b  c'|wordcount }} {{ xs|count }} {{ d|length }} {{ missing|length }} {{ 'héllo'|length }} {{ people[0]|attr('name') }}",
    # tests
    "{{ missing is defined }} {{ n is defined }} {{ none is none }} {{ s is string }} {{ d is mapping }} {{ s is mapping }} {{ s is iterable }} {{ n is iterable }} {{ missing is iterable }}",
    "{{ n is number }} {{ f is number }} {{ t is number }} {{ n is integer }} {{ t is integer }} {{ f is float }} {{ t is boolean }} {{ t is true }} {{ 1 is true }} {{ false is false }}",
    "{{ xs is sequence }} {{ s is sequence }} {{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ 1 is equalto 1 }} {{ 1 is eq(2) }} {{ n is gt 3 }} {{ 2 is in xs }} {{ 'abc' is lower }} {{ 'ABC' is upper }}",
    "{{ n is not none }} {{ not n is none }} {{ missing is not defined }} {{ greet is callable }} {{ range is callable }}",
    # methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b c '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ ' a b c '.split(none, 1) }}",
    "{{ s.startswith('  He') }} {{ s.endswith('d') }} {{ 'file.py'.endswith(('.js', '.py')) }} {{ s.upper() }} {{ u.lower() }} {{ u.upper() }} {{ 'a-b'.replace('-', '_') }} {{ 'hello world'.title() }}",
    "{{ '{} and {}'.format('x', 2) }} {{ '{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='n') }} {{ '{{literal}}'.format() }} {{ ', '.join(words) }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }}",
    "{{ d.get('z') }} {{ d.get('nope') }} {{ d.get('nope', 'fb') }} {{ d.keys()|list }} {{ d.values()|list|length }} {{ d.items()|list|first }} {{ xs.index(2) }} {{ xs.count(1) }}",
    "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ '  '.isspace() }} {{ 'hello'.capitalize() }}",
    # undefined behaviour
    "[{{ missing }}] [{{ missing|upper }}] [{{ missing ~ 'x' }}] {{ missing == none }} {{ missing|list }} {{ missing is mapping }}",
    "{% if missing %}x{% elif n > 5 %}elif{% else %}else{% endif %} {% if none is none and not missing %}ok{% endif %}",
    "{{ none.x }}|{{ xs.nope }}|{{ s.nope }}|{{ d['a']['nope'] }}",
    # globals
    "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %A %j') }} {{ namespace(a=1).a }} {{ dict(a=1, b=2) }} {{ range(3)|list }}",
    "{% set ns = namespace(d) %}{{ ns.z }} {{ ns.a.q }}",
    # misc real-template idioms
    "{%- if messages[0]['role'] == 'system' %}{%- set sys = messages[0]['content'] %}{%- set rest = messages[1:] %}{%- endif %}{{ sys }}|{{ rest|length }}",
    "{{- bos }}{%- for m in messages %}{{ '<|' + m.role + '|>' }}{% if m.content is string %}{{ m.content|trim }}{% endif %}{% if m.tool_calls is defined %}{% for tc in m.tool_calls %}{{ tc.function.arguments|tojson }}{% endfor %}{% endif %}{% endfor %}",
    "{%- set content = messages[1].content %}{{ content.split('你')[-1] }} {{ ('<think>a</think>\\nb').split('</think>')[-1] }}",
    "{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|map(attribute='role')|unique|list }} {{ messages[-1] == messages[3] }} {{ messages[0] == {'content': 'Be brief.', 'role': 'system'} }}",
    "{% for m in messages %}{% if m.role == 'tool' %}{{ m.content|tojson }}{% endif %}{% endfor %} {{ (messages[2].tool_calls[0].function.arguments) | tojson(indent=4) }}",
    # scoping and more whitespace edge cases
    "{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{% endfor %}|{{ x }}",
    "{% for i in range(2) %}{% if true %}{% set y = i %}{% endif %}{{ y }}{% endfor %}[{{ y }}]",
    "{% for i in range(3) %}{% if i > 0 %}<{{ y }}>{% endif %}{% set y = i %}{% endfor %}",
    "{% set y = 'o' %}{% for i in range(3) %}{{ y }}{% set y = i %}{{ y }}{% endfor %}{{ y }}",
    "{% if true %}{% set z = 5 %}{% endif %}{{ z }}",
    "{% macro outer() %}{% macro inner() %}in{% endmacro %}[{{ inner() }}]{% endmacro %}{{ outer() }}",
    "{% for i in range(2) %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}",
    "{{ 'x' }}  {% if true %}\n  y{% endif %}",
    "a\n\t {% for i in range(2) %}\n\t  {{ i }}\n\t {% endfor %}\nb",
    "{%- raw -%}  raw text  {%- endraw -%}  after",
    "  {% raw %}x{% endraw %}\n  y",
    "a {# c #} b\n   {# c2 #}\nd",
    "{% if true %}{{ 'x' }}\n{% endif %}\n\n{% if false %}no{% else %}\nyes\n{% endif %}",
    "{%- for m in messages -%}\n    {{- m.role }}\n{%- endfor %}",
    "{{ '{{' }} {{ '}}' }} {{ {'a': {'b': 1}} }} {{ {'a': 1}['a'] }}",
    "{{ [1, 2, 3][1:] + [4] }} {{ (1, 2) + (3,) }} {{ 'abc'[1] }} {{ 'abc'[-1:] }} {{ xs|length > 3 }}",
    "{{ 1 if true else 2 if false else 3 }} {{ (1 if false else 2) + 1 }} {{ 'a' if 'a' in 'abc' }}",
    "{% set a = [1, 2] %}{% set b = a %}{{ a is sameas b }} {{ none is sameas none }}",
    "{% for x in [] %}{% else %}E{% endfor %}{% for x in [1] %}{{ loop.first and loop.last }}{% endfor %}",
    "{{ people|selectattr('name', 'in', ['ann', 'cy'])|map(attribute='age')|list }} {{ people|map(attribute='tags.0')|list }}",
    "{{ xs|map('string')|join('-') }} {{ [1.5, 2]|map('int')|list }} {{ ['a', 'b']|map('upper')|list }} {{ [[1], [2, 3]]|map('length')|list }}",
    "{{ 'Hello'|list|reverse|join }} {{ 'x,y'.split(',')|join('|') }} {{ '  a  '.strip() ~ '|' }}",
    "{{ {'b': 1, 'a': 2}|dictsort(by='value') }} {{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}",
    "{{ 10 // 3 * 3 + 10 % 3 }} {{ 2 * -3 }} {{ -(2) }} {{ not true == false }} {{ (not true) == false }}",
    "{{ 3.0 }} {{ 3.10 }} {{ 1e-7 }} {{ 123456789012345678.0 }} {{ 1.5e300 * 1e10 }} {{ -1.5e300 * 1e10 }} {{ 0.1 * 3 }} {{ 2.5e-5 }}",
    "{{ [1e16, 1.0, 0.5, -0.0]|tojson }} {{ {'k': 1e-7}|tojson }} {{ {1: 'int key', none: 1, true: 2}|tojson }}",
    "{{ loop is defined }}{% for i in [1] %}{{ loop is defined }}{% endfor %}",
    "{{ '%.2f'|format(3.14159) }} {{ '%5d|%-5d|%05.1f'|format(42, 7, 2.25) }} {{ '%x %o %e'|format(255, 8, 12345.678) }} {{ '%10s|%-6s|%.2s' % ('right', 'left', 'trunc') }} {{ '%r' % 'q' }}",
    "{{ xs|select('odd') is iterable }}|{% if el|select %}generators are truthy{% endif %}|{{ (xs|select)[0] }}|{{ xs|map('string')|first }}|{{ xs|reverse is sequence }}|{{ d.items()|list|length }}",
    # idioms from other popular chat templates (Qwen3, Gemma 3, Granite, Mistral Small)
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == 'user' and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}{{ ns.last_query_index }}",
    "{%- set content = '<think>\\nplan\\n</think>\\n\\nanswer' %}{{ content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}|{{ content.split('</think>')[-1].lstrip('\\n') }}",
    "{%- set msgs = [{'role': 'user', 'content': [{'type': 'image'}, {'type': 'text', 'text': '  describe  '}]}] %}{%- for message in msgs %}{%- if message['content'] is string %}{{ message['content'] | trim }}{%- else %}{%- for item in message['content'] %}{%- if item['type'] == 'image' %}{{ '<start_of_image>' }}{%- elif item['type'] == 'text' %}{{ item['text'] | trim }}{%- endif %}{%- endfor %}{%- endif %}{%- endfor %}",
    "{{- 'Today is ' + strftime_now('%B %d, %Y') + '.\\n' }}{{ messages[2].tool_calls|tojson(indent=4) }}",
    "{%- for i in range(messages|length - 1, -1, -1) %}{{ messages[i]['role'][:1] }}{%- if not loop.last %},{% endif %}{%- endfor %}",
    "{%- for tool_call in messages[2].tool_calls %}{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}{{- '{\"name\": \"' }}{{- tool_call.name }}{{- '\", \"arguments\": ' }}{%- if tool_call.arguments is string %}{{- tool_call.arguments }}{%- else %}{{- tool_call.arguments | tojson }}{%- endif %}}{%- endfor %}",
    "{%- set default_system_message = 'Date: {today}, before {yesterday}.' %}{{ default_system_message.format(today=strftime_now('%Y-%m-%d'), yesterday='2024-07-25') }}",
    "{%- if messages[0]['content'] is not none and messages[0]['content']|length > 0 %}{{ messages[0]['content'] }}{%- endif %}{%- for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}",
    "{%- for message in messages %}{%- if message.role == 'assistant' and message.tool_calls %}{%- for tc in message.tool_calls %}{{ tc.function.name }}({% for k, v in tc.function.arguments|items %}{{ k }}={{ v|tojson }}{% if not loop.last %}, {% endif %}{% endfor %}){%- endfor %}{%- endif %}{%- endfor %}",
    "{{ (messages|last).content }} {{ messages|map(attribute='role')|join(',') }} {{ messages|selectattr('tool_calls', 'defined')|list|length }} {{ messages|rejectattr('content', 'none')|list|length }}",
]

ERROR_CASES = [
    "{{ raise_exception('custom failure') }}",
    "{% for x in none %}{% endfor %}",
    "{{ missing.attr }}",
    "{{ missing + 1 }}",
    "{{ 1 / 0 }}",
    "{{ 'a' + 1 }}",
    "{{ xs.append(1) }}",
    "{% if %}",
    "{{ 1 + }}",
    "{% for x in xs %}",
    "{% endif %}",
    "{{ 'unterminated }}",
    "{{ x|no_such_filter }}",
    "{{ x is no_such_test }}",
    "{% include 'other.jinja' %}",
    "{% extends 'base' %}",
    "{% break %}",
    "{{ n() }}",
    "{% set a, b = [1] %}",
    "{{ xs[1:2:0] }}",
    "{{ none|tojson(indent=2) ~ missing|tojson }}",
    "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
    "{{ 1 < 'a' }}",
    "{{ 'x' * 'y' }}",
    "{% set x.y = 1 %}",
    "{{ (1, 2) + [3] }}",
    "{{ {[1]: 2} }}",
    "{{ 'a'|join(1) ~ (1).foo.bar }}",
    "{% for a, b in [1, 2] %}{% endfor %}",
    "{{ -'x' }}",
    "{% macro m() %}{% endmacro %}{{ m(x=1) }}",
    "{{ 'abc'.split('') }}",
    "{{ '{0}'.format() }}",
    "{{ xs|select|length }}",
    "{{ xs|map('string')|tojson }}",
    "{{ [1] in {} }}",
]


def main():
    env = make_env()
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = os.path.join(here, "data", "jinja_golden.jsonl")
    ctx = dict(CTX)
    ctx["bos"] = "<s>"
    with open(out_path, "w", encoding="utf-8") as out:
        # First line: the variables every case renders with.
        out.write(json.dumps({"context": ctx}, ensure_ascii=False) + "\n")
        for src in CASES + ERROR_CASES:
            rec = {"template": src}
            try:
                rec["expected"] = env.from_string(src).render(**ctx)
            except Exception as e:  # noqa: BLE001 - any failure is an expected error
                rec["expected_error"] = True
                rec["error"] = f"{type(e).__name__}: {e}"
            if src in ERROR_CASES and "expected" in rec:
                raise SystemExit(f"error case rendered: {src!r} -> {rec['expected']!r}")
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(CASES) + len(ERROR_CASES)} cases to {out_path}")


if __name__ == "__main__":
    main()
