"""The table bounded context: seats, buy-ins, the start and settlement of hands, and ``table-saga``."""

from table.aggregate import Table
from table.saga import TableSaga

__all__ = ["Table", "TableSaga"]
