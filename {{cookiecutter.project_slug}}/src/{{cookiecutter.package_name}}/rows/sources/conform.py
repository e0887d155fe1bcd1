"""Arrays as a database hands them over, made into a batch of the dataset's declared types.

Every cast is Arrow's safe cast: a value that does not fit (text that is no
timestamp, a decimal with more digits than declared, a null where none is
allowed, a float that is not finite) stops the stream with `UnfitValueError`,
naming the column and the row's key. Nothing is rounded, truncated or guessed.
"""

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from ..columns import Column, Kind
from ..datasets import Dataset
from .base import UnfitValueError

_SHOWN = 60  # characters of a refused value that the log shows


def conform(dataset: Dataset, arrays: Sequence[pa.Array]) -> pa.RecordBatch:
    """A batch in `dataset`'s schema from one array per column, or `UnfitValueError`."""
    keys = arrays[dataset.columns.index(dataset.key)]
    typed = [
        _typed(dataset, column, array, keys)
        for column, array in zip(dataset.fields, arrays, strict=True)
    ]
    return pa.RecordBatch.from_arrays(typed, schema=dataset.arrow_schema)


def _typed(dataset: Dataset, column: Column, array: pa.Array, keys: pa.Array) -> pa.Array:
    target = column.arrow_type
    if column.kind is Kind.BOOLEAN and pa.types.is_integer(array.type):
        # A cast would make any number but 0 true: only 0 and 1 are booleans.
        outside = pc.and_(pc.is_valid(array), pc.invert(pc.is_in(array, pa.array([0, 1]))))
        if pc.any(outside).as_py():
            where = pc.index(outside, True).as_py()
            found = f"{array[where].as_py()}, where a boolean is 0 or 1"
            raise UnfitValueError(dataset, column.name, keys[where].as_py(), found)
    if array.type != target:
        try:
            array = array.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _refused(dataset, column, array, keys) from None
    if array.null_count and not column.nullable:
        where = pc.index(pc.is_null(array), True).as_py()
        raise UnfitValueError(dataset, column.name, keys[where].as_py(), "null, declared not null")
    if column.kind is Kind.FLOAT and pc.all(pc.is_finite(array)).as_py() is False:
        where = pc.index(pc.is_finite(array), False).as_py()
        found = f"{array[where].as_py()}, which JSON cannot carry"
        raise UnfitValueError(dataset, column.name, keys[where].as_py(), found)
    return array


def _refused(dataset: Dataset, column: Column, array: pa.Array, keys: pa.Array) -> UnfitValueError:
    """The first value of `array` that will not cast: the slow path, taken once, to say which."""
    for index in range(len(array)):
        try:
            array.slice(index, 1).cast(column.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            value = str(array[index].as_py())
            shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
            found = f"{shown!r}, not a {column.declared}"
            return UnfitValueError(dataset, column.name, keys[index].as_py(), found)
    return UnfitValueError(dataset, column.name, "?", f"values of {array.type}")
