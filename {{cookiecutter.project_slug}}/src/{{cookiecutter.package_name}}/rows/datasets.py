"""What the row endpoints serve: each dataset is a query, its columns and its key.

To serve a table of your own, describe one row with a pydantic model and add a
`Dataset` to `DATASETS`; every selected format then serves it at
`/<name>.<format>`.
"""

from dataclasses import dataclass

from pydantic import BaseModel, Field


class Item(BaseModel):
    """One row of the sample `items` table."""

    id: int = Field(description="Primary key; resume an export with `after_id`.")
    name: str
    category: str
    price: float
    quantity: int
    created_at: str = Field(description="ISO 8601 timestamp, UTC.")
    note: str | None = Field(description="Free text: commas, quotes, newlines, any script.")


@dataclass(frozen=True)
class Dataset:
    """A table (or view) served row by row in key order."""

    name: str
    table: str
    model: type[BaseModel]
    key: str = "id"

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in the order every format writes them."""
        return tuple(self.model.model_fields)

    @property
    def select(self) -> str:
        """The query without its WHERE clause; names come from code, never from a request."""
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"  # noqa: S608


ITEMS = Dataset(name="items", table="items", model=Item)
DATASETS = (ITEMS,)
