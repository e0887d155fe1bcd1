{#- The project name as a Python string literal, written as ruff format writes it: in double
quotes unless it holds more of them than single quotes, each character outside printable
ASCII as an escape (so no confusable or invisible character reaches the source; tojson gives
its code point, a character beyond U+FFFF as two surrogates), and in parenthesised pieces of
a line each when `TITLE = "..."` is longer than the line length (100). -#}
{%- set name = namespace(units=[], pieces=[], piece=[], size=0) -%}
{%- for char in cookiecutter.project_name -%}
  {%- set code = char|tojson -%}
  {%- if char == '\\' -%}
    {%- set unit = '\\\\' -%}
  {%- elif ' ' <= char <= '~' -%}
    {%- set unit = char -%}
  {%- elif code|length == 8 -%}
    {%- set unit = code[1:7] -%}
  {%- else -%}
    {%- set unit = '\\U%08x'|format(65536 + (code[3:7]|int(base=16) - 55296) * 1024 + code[9:13]|int(base=16) - 56320) -%}
  {%- endif -%}
  {%- set name.units = name.units + [unit] -%}
{%- endfor -%}
{%- macro literal(units) -%}
  {%- set quote = "'" if units|select('eq', '"')|list|length > units|select('eq', "'")|list|length else '"' -%}
  {{ quote }}{% for unit in units %}{{ '\\' ~ unit if unit == quote else unit }}{% endfor %}{{ quote }}
{%- endmacro -%}
{%- for unit in name.units -%}
  {#- 94: the line length less four spaces of indent and two quotes; a quote may cost two. -#}
  {%- if name.size + unit|length + (1 if unit in '"\'' else 0) > 94 -%}
    {%- set name.pieces = name.pieces + [name.piece] -%}
    {%- set name.piece = [] -%}
    {%- set name.size = 0 -%}
  {%- endif -%}
  {%- set name.piece = name.piece + [unit] -%}
  {%- set name.size = name.size + unit|length + (1 if unit in '"\'' else 0) -%}
{%- endfor -%}
{%- set name.pieces = name.pieces + [name.piece] -%}
"""The service's package: TITLE is its name in the docs and in the OpenAPI schema."""

{% if ("TITLE = " ~ literal(name.units))|length <= 100 -%}
TITLE = {{ literal(name.units) }}
{%- else -%}
TITLE = (
{%- for piece in name.pieces %}
    {{ literal(piece) }}
{%- endfor %}
)
{%- endif %}
