"""What the row endpoints serve: each dataset is a table, its typed columns and its key.

To serve a table of your own, describe one row with a pydantic model and add a
`Dataset` to `DATASETS`; every selected format then serves it at
`/<name>.<format>`. The model's field types are the columns' types: they drive
the query, the wire form of every value, the OpenAPI schema and the tests
(README.md: "Serve your own table", and the table of types).
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel, Field

from .columns import Column, DeclarationError, Kind, columns_of


class Item(BaseModel):
    """One row of the sample `items` table."""

    id: int = Field(description="Primary key; resume an export with `after_id`.")
    name: str
    category: str
    price: Decimal = Field(max_digits=10, decimal_places=2, description="Exact, two decimals.")
    quantity: int
    in_stock: bool
    created_at: AwareDatetime
    note: str | None = Field(description="Free text: commas, quotes, newlines, any script.")


@dataclass(frozen=True)
class Dataset:
    """A table (or view) served row by row in key order."""

    name: str
    table: str
    model: type[BaseModel]
    key: str = "id"

    @cached_property
    def fields(self) -> tuple[Column, ...]:
        """The typed columns, in the order every format writes them."""
        return columns_of(self.model)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in the order every format writes them."""
        return tuple(column.name for column in self.fields)

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of its batches, as every source hands them on."""
        return pa.schema(
            [pa.field(column.name, column.arrow_type, column.nullable) for column in self.fields]
        )

    def check(self) -> None:
        """Raise `DeclarationError`, naming the dataset, if it cannot be served."""
        try:
            fields = self.fields
        except DeclarationError as error:
            msg = f"dataset {self.name}: {error}"
            raise DeclarationError(msg) from None
        keys = [column for column in fields if column.name == self.key]
        if not keys or keys[0].kind is not Kind.INTEGER or keys[0].nullable:
            msg = f"dataset {self.name}: its key {self.key!r} must be a field of type int"
            raise DeclarationError(msg)

    @property
    def select(self) -> str:
        """The plain query of its columns; names come from code, never from a request."""
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"  # noqa: S608


ITEMS = Dataset(name="items", table="items", model=Item)
DATASETS = (ITEMS,)
