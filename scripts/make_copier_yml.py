"""Write copier.yml from cookiecutter.json and the rules in hooks/pre_gen_project.py.

    python scripts/make_copier_yml.py           # rewrite copier.yml and copier/data.jinja
    python scripts/make_copier_yml.py --check   # exit 1 if either is stale

cookiecutter.json is the one source of the questions: keys, order, defaults and
prompts. The pre-generation hook is the one source of the rules: its constants
(FORMATS, COMPRESSIONS, CHUNK_MIN, CHUNK_MAX, TAKEN) are read from its source,
and each of its checks is restated as a Jinja macro in copier/checks.jinja that
renders the hook's message word for word; copier.yml's `validator:` entries call
them. Copier cannot import Python, so the lists the hook takes from the
interpreter (keywords, standard-library modules) are written into
copier/data.jinja as data: the union over every Python the generated project
supports, so the output does not depend on which Python generated it.

Copier validates an answer that is typed or passed with --data, never a default
taken with --defaults. A default can only be wrong when it is derived from an
earlier answer (the slug from the name, the package from the slug), so under
--defaults each validator also checks the derived answers that were not given.
"""

import argparse
import ast
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COOKIECUTTER_JSON = ROOT / "cookiecutter.json"
HOOK = ROOT / "hooks" / "pre_gen_project.py"
COPIER_YML = ROOT / "copier.yml"
DATA_JINJA = ROOT / "copier" / "data.jinja"
ANSWERS_FILE = ".copier-answers.yml"
MIN_COPIER = "9.4.0"

# Names that some supported Python (3.11 to 3.14) has and another lacks: the keywords
# and modules of this interpreter are added to these, so any of them gives one result.
SOFT_KEYWORDS = {"_", "case", "match", "type"}
STDLIB_ELSEWHERE = {
    # added in 3.12 to 3.14
    "_android_support", "_apple_support", "_colorize", "_hmac", "_interpchannels",
    "_interpqueues", "_interpreters", "_ios_support", "_opcode_metadata", "_pydatetime",
    "_pylong", "_pyrepl", "_remote_debugging", "_suggestions", "_sysconfig", "_wmi", "_zstd",
    "annotationlib", "compression",
    # removed in 3.12 and 3.13 (a project may still run on 3.11)
    "_bootsubprocess", "_crypt", "_msi", "aifc", "asynchat", "asyncore", "audioop", "cgi",
    "cgitb", "chunk", "crypt", "distutils", "imghdr", "imp", "lib2to3", "mailcap", "msilib",
    "nis", "nntplib", "ossaudiodev", "pipes", "smtpd", "sndhdr", "spwd", "sunau", "telnetlib",
    "uu", "xdrlib",
}  # fmt: skip

LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
CONTROL = "".join(map(chr, range(32)))


def hook_constants() -> dict[str, Any]:
    """The hook's module-level constants, read from its source without running it."""
    values: dict[str, Any] = {}
    for node in ast.parse(HOOK.read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "frozenset":
            value = value.args[0]
        for target in node.targets:
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            try:
                literal = ast.literal_eval(value)
            except ValueError:
                continue
            parts = literal if isinstance(target, ast.Tuple) else [literal]
            for name, part in zip(names, parts, strict=True):
                if isinstance(name, ast.Name):
                    values[name.id] = part
    return values


def jinja_str(text: str) -> str:
    """`text` as a Jinja string literal (JSON's escapes are Jinja's)."""
    return json.dumps(text)


def derived_default(raw: str) -> str | None:
    """The Jinja expression of a default computed from earlier answers, in Copier's names."""
    match = re.fullmatch(r"\{\{(.*)\}\}", raw.strip(), re.DOTALL)
    if not match or "cookiecutter." not in raw:
        return None
    return match.group(1).strip().replace("cookiecutter.", "")


def validator(check: str, derived: list[tuple[str, str]]) -> str:
    """A validator: the question's own check, then, under --defaults, the checks of the
    answers derived from it that follow and were not given (a given one is validated
    by its own question, which goes on from there). It renders the first message.
    """
    lines = [
        "{%- import 'copier/checks.jinja' as check -%}",
        f"{{%- set message = {check} -%}}",
    ]
    if derived:
        lines.append("{%- set derive = not message and _copier_conf.defaults -%}")
    for name, expression in derived:
        lines += [
            f"{{%- if derive and {name} is not defined -%}}",
            f"  {{%- set {name} = {expression} -%}}",
            f"  {{%- set message = check.{name}({name}) -%}}",
            "  {%- set derive = not message -%}",
            "{%- else -%}",
            "  {%- set derive = false -%}",
            "{%- endif -%}",
        ]
    lines.append("{{ message }}")
    return "\n".join(lines)


def data_jinja(hook: dict[str, Any]) -> str:
    """copier/data.jinja: the hook's constants and the lists it takes from Python."""
    valid_import = re.compile(r"[a-z_][a-z0-9_]*")
    keywords = set(keyword.kwlist) | set(keyword.softkwlist) | SOFT_KEYWORDS
    shadowed = set(sys.stdlib_module_names) | STDLIB_ELSEWHERE | set(hook["TAKEN"])
    values = {
        "FORMATS": list(hook["FORMATS"]),
        "COMPRESSIONS": list(hook["COMPRESSIONS"]),
        "CHUNK_MIN": hook["CHUNK_MIN"],
        "CHUNK_MAX": hook["CHUNK_MAX"],
        "LOWER": LOWER,
        "DIGITS": DIGITS,
        "CONTROL": CONTROL,
        "KEYWORDS": sorted(word for word in keywords if valid_import.fullmatch(word)),
        "SHADOWED": sorted(name for name in shadowed if valid_import.fullmatch(name)),
    }
    out = [
        "{#- Generated by scripts/make_copier_yml.py from hooks/pre_gen_project.py; do not edit.",
        "",
        "KEYWORDS and SHADOWED: the keywords and standard-library modules of every Python",
        "from 3.11 to 3.14, and the hook's TAKEN names. -#}",
    ]
    for name, value in values.items():
        if not isinstance(value, list) or len(json.dumps(value)) < 80:
            out.append(f"{{%- set {name} = {json.dumps(value)} -%}}")
            continue
        out.append(f"{{%- set {name} = [")
        line = ""
        for item in value:
            piece = json.dumps(item) + ","
            if line and len(line) + len(piece) > 92:
                out.append("    " + line.rstrip())
                line = ""
            line += piece + " "
        out += ["    " + line.rstrip(), "] -%}"]
    return "\n".join(out) + "\n"


def question(key: str, raw: Any, prompt: Any, default: str | None) -> list[str]:
    """The type, help, choices and default of one question, as YAML lines."""
    if isinstance(raw, bool):
        return ["  type: bool", f"  help: {json.dumps(prompt)}", f"  default: {json.dumps(raw)}"]
    if isinstance(raw, list):
        lines = ["  type: str", f"  help: {json.dumps(prompt['__prompt__'])}", "  choices:"]
        lines += [f"    {json.dumps(prompt[choice])}: {json.dumps(choice)}" for choice in raw]
        return [*lines, f"  default: {json.dumps(raw[0])}"]
    value = str(raw) if default is None else "{{ " + default + " }}"
    return ["  type: str", f"  help: {json.dumps(prompt)}", f"  default: {json.dumps(value)}"]


def build() -> dict[Path, str]:
    """The generated files and their text."""
    config: dict[str, Any] = json.loads(COOKIECUTTER_JSON.read_text())
    prompts: dict[str, Any] = config.pop("__prompts__", {})
    hook = hook_constants()
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    formats = [key for key in questions if key in hook["FORMATS"]]
    if formats != list(hook["FORMATS"]) or questions["compression"] != list(hook["COMPRESSIONS"]):
        raise SystemExit("cookiecutter.json and the hook disagree on formats or compressions")
    derived = {
        key: expression
        for key, raw in questions.items()
        if isinstance(raw, str) and (expression := derived_default(raw))
    }
    checks = {
        "project_name": "check.project_name(project_name)",
        "project_slug": "check.project_slug(project_slug)",
        "package_name": "check.package_name(package_name)",
        "author_email": "check.author_email(author_email)",
        formats[-1]: "check.formats([" + ", ".join(formats) + "])",
        "chunk_size": "check.chunk_size(chunk_size)",
        "compression": "check.compression(compression)",
    }
    excluded = ["~*", "*.py[co]", "__pycache__", ".git", ".DS_Store"]
    out = [
        "# Generated by scripts/make_copier_yml.py from cookiecutter.json and",
        "# hooks/pre_gen_project.py: edit those and run the script, not this file.",
        f"_min_copier_version: {json.dumps(MIN_COPIER)}",
        "# The Cookiecutter layout: the project is this folder, and every file in it a template.",
        "_subdirectory: \"{{ '{{cookiecutter.project_slug}}' }}\"",
        '_templates_suffix: ""',
        f"_answers_file: {ANSWERS_FILE}",
        "_exclude:",
        *(f"  - {json.dumps(pattern)}" for pattern in excluded),
        "",
    ]
    keys = list(questions)
    for index, key in enumerate(keys):
        out.append(f"{key}:")
        out += question(key, questions[key], prompts.get(key, key), derived.get(key))
        if key in checks:
            later = [(name, derived[name]) for name in keys[index + 1 :] if name in derived]
            out.append("  validator: |-")
            out += [f"    {line}" for line in validator(checks[key], later).splitlines()]
        out.append("")
    entries = [f"{jinja_str(key)}: {key}" for key in keys]
    entries.append(f"{jinja_str('_template_version')}: {jinja_str(config['_template_version'])}")
    out += [
        "# `cookiecutter.x` in the template's files: the answers, under Cookiecutter's name.",
        "cookiecutter:",
        "  type: yaml",
        "  when: false",
        "  default: >-",
        "    {{ {",
        *(f"    {entry}," for entry in entries),
        "    } | tojson }}",
        "",
    ]
    return {COPIER_YML: "\n".join(out), DATA_JINJA: data_jinja(hook)}


def main() -> int:
    """Write copier.yml, or with --check say whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if copier.yml is stale")
    args = parser.parse_args()
    files = build()
    if args.check:
        stale = [path for path, text in files.items() if not current(path, text)]
        for path in stale:
            name = path.relative_to(ROOT)
            print(f"{name} is stale: run python scripts/make_copier_yml.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text)
    return 0


def current(path: Path, text: str) -> bool:
    """Whether `path` holds exactly `text`."""
    return path.exists() and path.read_text() == text


if __name__ == "__main__":
    sys.exit(main())
