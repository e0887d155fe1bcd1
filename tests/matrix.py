"""Every combination of answers that changes the generated code, in one place.

    python -m tests.matrix --json     # the list, for CI systems that fan out
    python -m tests.matrix --ids      # one id per line

Each entry is the extra context for `cookiecutter --no-input`, e.g.
`cookiecutter --no-input . format_sse=no compression=br`.
"""

import argparse
import itertools
import json

from tests.render import COOKIECUTTER_JSON, Answers

# The format questions (`format_csv`, ...) in cookiecutter.json's order, and its compressions.
FORMATS = tuple(
    key.removeprefix("format_") for key in COOKIECUTTER_JSON if key.startswith("format_")
)
COMPRESSIONS = tuple(COOKIECUTTER_JSON["compression"])
CHUNK_DEFAULT = int(COOKIECUTTER_JSON["chunk_size"])
# The bounds the pre-generation hook accepts.
CHUNK_MIN, CHUNK_MAX = 512, 8_388_608
# The formats that serve database rows; a render with none of them has no database.
ROW_FORMATS = ("csv", "jsonl", "json")


def answers(formats: tuple[str, ...], compression: str, chunk_size: int = CHUNK_DEFAULT) -> Answers:
    """The extra context that selects `formats` (and no others)."""
    context: Answers = {f"format_{name}": name in formats for name in FORMATS}
    context["compression"] = compression
    context["chunk_size"] = chunk_size
    return context


def has_rows(context: Answers) -> bool:
    """Whether `context` selects a format that serves rows (and so the database behind them)."""
    return any(context[f"format_{name}"] for name in ROW_FORMATS)


def combo_id(context: Answers) -> str:
    """A test id that reads as the answers: `csv-jsonl.gzip`, `sse.none.chunk512`."""
    chosen = "-".join(name for name in FORMATS if context[f"format_{name}"]) or "none"
    tail = "" if context["chunk_size"] == CHUNK_DEFAULT else f".chunk{context['chunk_size']}"
    return f"{chosen}.{context['compression']}{tail}"


def _format_sets() -> list[tuple[str, ...]]:
    return [
        combo
        for size in range(len(FORMATS), -1, -1)
        for combo in itertools.combinations(FORMATS, size)
    ]


SUPPORTED: list[Answers] = [
    answers(formats, compression)
    for formats in _format_sets()
    if formats
    for compression in COMPRESSIONS
] + [
    answers(formats, compression, chunk)
    for formats, compression in [(FORMATS, "gzip"), (("csv",), "none"), (("jsonl", "sse"), "zstd")]
    for chunk in (CHUNK_MIN, CHUNK_MAX)
]

# Renders whose suites also run against PostgreSQL, Redis and nginx (the tests
# marked `services`); every other render runs on SQLite and the in-process hub.
WITH_SERVICES: frozenset[str] = frozenset(
    combo_id(answers(FORMATS, compression)) for compression in COMPRESSIONS
)

# No format at all is refused by the pre-generation hook.
UNSUPPORTED: list[Answers] = [answers((), compression) for compression in COMPRESSIONS]


def main() -> None:
    """Print the matrix for CI systems."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print [{id, answers}, ...] as JSON")
    parser.add_argument("--ids", action="store_true", help="print one id per line")
    args = parser.parse_args()
    if args.ids:
        print("\n".join(combo_id(context) for context in SUPPORTED))
    else:
        print(json.dumps([{"id": combo_id(c), "answers": c} for c in SUPPORTED], indent=None))


if __name__ == "__main__":
    main()
