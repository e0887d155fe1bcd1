"""Refuse answers that would make a broken project, before anything is written.

The answers arrive as JSON data, never pasted into this source, so no answer can
change what this script does. Each failure is one line naming the field, the
value and what is allowed.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

FORMATS = ("format_csv", "format_jsonl", "format_json", "format_sse", "format_file", "format_relay")
COMPRESSIONS = ("gzip", "br", "zstd", "none")
CHUNK_MIN, CHUNK_MAX = 512, 8_388_608
# Characters no answer may hold, as (first, last) code points: control characters (C0,
# DEL, C1: line breaks, tabs, escapes), the Unicode line and paragraph separators, the
# bidirectional embeddings, overrides and isolates (they reorder how source reads), lone
# surrogates (no file can hold them) and the noncharacters U+FFFE and U+FFFF.
UNPRINTABLE = (
    (0x00, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029), (0x202A, 0x202E), (0x2066, 0x2069),
    (0xD800, 0xDFFF), (0xFFFE, 0xFFFF),
)  # fmt: skip
# An address: words joined by single dots, an @, then a domain of the same shape (RFC
# 5322's dot-atom, which is what the metadata of a built package accepts). Words of the
# first half hold ASCII letters, digits and ATEXT; the domain's, letters, digits, hyphens
# and non-ASCII letters.
ATEXT = "!#$%&'*+-/=?^_`{|}~"
_LOCAL = rf"[A-Za-z0-9{re.escape(ATEXT)}]+"
_DOMAIN = r"(?:[A-Za-z0-9-]|[^\x00-\x7f])+"
EMAIL = re.compile(rf"{_LOCAL}(?:\.{_LOCAL})*@{_DOMAIN}(?:\.{_DOMAIN})*")
# Import names a package must not take: what the project installs (its dependencies
# and theirs, its dev tools) and its own top-level packages beside it (bench, tests).
TAKEN = frozenset(
    {"_pytest", "annotated_doc", "annotated_types", "anyio", "async_timeout", "bench", "brotli",
     "certifi", "click", "dotenv", "fastapi", "granian", "h11", "hatchling", "httpcore",
     "httptools", "httpx", "idna", "iniconfig", "mypy", "mypy_extensions",
     "nodeenv", "opentelemetry", "orjson", "packaging", "pathspec", "platformdirs",
     "pluggy", "pre_commit", "psutil", "psycopg", "psycopg_binary", "psycopg_pool", "pydantic",
     "pydantic_core", "pydantic_settings", "pygments", "pytest", "pytest_timeout", "redis",
     "ruff", "sniffio", "starlette", "tests", "typing_extensions",
     "typing_inspection", "tzdata", "uvicorn", "uvloop", "virtualenv", "watchfiles", "websockets",
     "yaml", "zstandard"}
)  # fmt: skip
# Names that some supported Python (3.11 to 3.14) has and another lacks; with this
# interpreter's own keywords and modules they give the same answer on any of them.
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


def unprintable(text: str) -> bool:
    """Whether `text` holds a character of UNPRINTABLE."""
    return any(first <= ord(char) <= last for char in text for first, last in UNPRINTABLE)


def problem(answers: dict[str, object]) -> str | None:
    """The first thing wrong with `answers`, as one sentence; None when all is well."""
    name = str(answers["project_name"])
    if not name.strip() or unprintable(name):
        return f"project_name is {name!r}; expected a non-empty name on one line"
    for key in ("description", "author_name"):
        text = str(answers[key])
        if unprintable(text):
            return f"{key} is {text!r}; expected one line of text, without control characters"
    slug = str(answers["project_slug"])
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", slug):
        return (
            f"project_slug is {slug!r}; expected lowercase letters and digits in words "
            "joined by single hyphens, starting with a letter (e.g. 'streaming-api')"
        )
    package = str(answers["package_name"])
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", package):
        return (
            f"package_name is {package!r}; expected a Python import name: lowercase letters, "
            "digits and underscores, not starting with a digit"
        )
    if keyword.iskeyword(package) or keyword.issoftkeyword(package) or package in SOFT_KEYWORDS:
        return f"package_name is {package!r}; that is a Python keyword, choose another name"
    if package in sys.stdlib_module_names or package in STDLIB_ELSEWHERE or package in TAKEN:
        return (
            f"package_name is {package!r}; "
            "that would shadow the module of the same name, choose another"
        )
    email = str(answers["author_email"])
    if not EMAIL.fullmatch(email) or unprintable(email):
        return f"author_email is {email!r}; expected an address like name@example.com"
    if not any(answers[key] is True for key in FORMATS):
        return "no format selected; answer yes to at least one of " + ", ".join(FORMATS)
    for key in FORMATS:
        if not isinstance(answers[key], bool):
            return f"{key} is {answers[key]!r}; expected yes or no"
    chunk = str(answers["chunk_size"]).strip()
    if not re.fullmatch(r"[1-9][0-9]*", chunk) or not CHUNK_MIN <= int(chunk) <= CHUNK_MAX:
        return (
            f"chunk_size is {chunk!r}; "
            f"expected a whole number of bytes from {CHUNK_MIN} to {CHUNK_MAX}"
        )
    compression = answers["compression"]
    if compression not in COMPRESSIONS:
        return f"compression is {compression!r}; expected one of " + ", ".join(COMPRESSIONS)
    return None


if __name__ == "__main__":
    message = problem(ANSWERS)
    if message:
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
