"""A dataset's columns and their types: what the pydantic model declares, checked once.

Each Python type of a field names one column type, and each column type has one
Arrow type (how its values travel through the service) and one wire form (the
same text in every format, from every database; the generated README has the
table). Anything else is refused with one line naming the field.
"""

import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel, NaiveDatetime
from pydantic.fields import FieldInfo

ACCEPTED = (
    "int, float, Decimal (with max_digits and decimal_places), bool, str, "
    "AwareDatetime, NaiveDatetime or date, each optionally `| None`"
)
# A naive timestamp on the wire: ISO 8601 date and time, no offset (none is known).
NAIVE_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"


class Kind(StrEnum):
    """The column types a dataset may declare."""

    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TEXT = "text"
    TIMESTAMPTZ = "timestamp with time zone"
    TIMESTAMP = "timestamp without time zone"
    DATE = "date"


# Checked in this order: bool is a subclass of int, and datetime of date.
_KINDS: tuple[tuple[object, Kind], ...] = (
    (bool, Kind.BOOLEAN),
    (int, Kind.INTEGER),
    (float, Kind.FLOAT),
    (Decimal, Kind.DECIMAL),
    (str, Kind.TEXT),
    (AwareDatetime, Kind.TIMESTAMPTZ),
    (NaiveDatetime, Kind.TIMESTAMP),
    (date, Kind.DATE),
)


_ARROW: dict[Kind, pa.DataType] = {
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.TEXT: pa.string(),
    Kind.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.DATE: pa.date32(),
}
# The JSON Schema of each wire form (decimals, whose pattern has their scale, apart).
_WIRE: dict[Kind, dict[str, str]] = {
    Kind.INTEGER: {"type": "integer", "format": "int64"},
    Kind.FLOAT: {"type": "number", "format": "double"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.TEXT: {"type": "string"},
    Kind.TIMESTAMPTZ: {"type": "string", "format": "date-time"},
    Kind.TIMESTAMP: {"type": "string", "pattern": NAIVE_PATTERN},
    Kind.DATE: {"type": "string", "format": "date"},
}


class DeclarationError(ValueError):
    """A dataset's model declares something the service cannot serve."""


@dataclass(frozen=True)
class Column:
    """One column: its name, type and whether it may be null."""

    name: str
    kind: Kind
    nullable: bool = False
    precision: int = 0  # decimals only: digits in all, and after the point
    scale: int = 0
    description: str | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type its values have on their way from the database to the wire."""
        if self.kind is Kind.DECIMAL:
            return pa.decimal128(self.precision, self.scale)
        return _ARROW[self.kind]

    @property
    def declared(self) -> str:
        """The type as a person reads it: `decimal(10, 2)`, `text or null`."""
        name = str(self.kind)
        if self.kind is Kind.DECIMAL:
            name = f"decimal({self.precision}, {self.scale})"
        return f"{name} or null" if self.nullable else name

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of its wire form: what a JSON format sends for it."""
        schema = _wire_schema(self)
        if self.description:
            schema["description"] = self.description
        if self.nullable:
            return {"anyOf": [schema, {"type": "null"}], "title": self.name}
        return {**schema, "title": self.name}


def _wire_schema(column: Column) -> dict[str, Any]:
    if column.kind is Kind.DECIMAL:
        # Text, with exactly `scale` digits after the point: no binary float in between.
        point = r"\.\d{" + str(column.scale) + "}" if column.scale else ""
        return {"type": "string", "format": "decimal", "pattern": rf"^-?\d+{point}$"}
    return dict(_WIRE[column.kind])


def _parts(annotation: object) -> Iterator[object]:
    """The members of a union, Annotated wrappers included as they are."""
    if get_origin(annotation) in (Union, types.UnionType):
        yield from get_args(annotation)
    else:
        yield annotation


def _column(name: str, field: FieldInfo, where: str) -> Column:
    members = list(_parts(field.annotation))
    nullable = type(None) in members
    members = [member for member in members if member is not type(None)]
    metadata = list(field.metadata)
    if len(members) == 1 and get_origin(members[0]) is Annotated:
        inner, *extra = get_args(members[0])
        members = [inner]
        metadata += [one for info in extra if isinstance(info, FieldInfo) for one in info.metadata]
    if len(members) == 1 and members[0] is datetime:
        msg = (
            f"{where}.{name}: a bare datetime could be either: declare AwareDatetime "
            "(timestamp with time zone) or NaiveDatetime (without)"
        )
        raise DeclarationError(msg)
    kinds = [kind for python, kind in _KINDS if len(members) == 1 and members[0] is python]
    if not kinds:
        msg = f"{where}.{name}: {field.annotation} is not a column type; use {ACCEPTED}"
        raise DeclarationError(msg)
    kind = kinds[0]
    precision = next((m.max_digits for m in metadata if getattr(m, "max_digits", None)), 0)
    scale = next((m.decimal_places for m in metadata if hasattr(m, "decimal_places")), None)
    if kind is Kind.DECIMAL and (not precision or scale is None or not 0 <= scale <= precision):
        msg = (
            f"{where}.{name}: a Decimal needs its digits, e.g. "
            "`Field(max_digits=12, decimal_places=2)`, decimal_places at most max_digits"
        )
        raise DeclarationError(msg)
    if kind is Kind.DECIMAL and precision > 38:  # decimal128's limit
        msg = f"{where}.{name}: max_digits is {precision}; at most 38 are supported"
        raise DeclarationError(msg)
    return Column(name, kind, nullable, precision, scale or 0, field.description)


def columns_of(model: type[BaseModel]) -> tuple[Column, ...]:
    """The columns `model` declares, in field order; `DeclarationError` names a bad one."""
    return tuple(_column(name, field, model.__name__) for name, field in model.model_fields.items())
