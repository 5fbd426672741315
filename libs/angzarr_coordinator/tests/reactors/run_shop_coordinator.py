"""A coordinator with delivery on, in its own process, for crash tests: ``SqliteEventStore``
(synchronous=full) and a ``Coordinator`` over the shop topology, served on a Unix socket until killed.

Usage: python run_shop_coordinator.py --db FILE --socket PATH --shop-dir DIR
(``DIR`` holds the shop services' sockets: order.sock, stock.sock, flow.sock.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coord_support import coordinator_on_socket, ready_until_signalled  # noqa: E402
from react_support import REACT_LIMITS, shop_topology  # noqa: E402

from angzarr_coordinator.store.sqlite import SqliteEventStore  # noqa: E402


class _Sockets:
    """Stands in for ``Shop`` in ``shop_topology``: only the socket paths are needed."""

    def __init__(self, directory: Path) -> None:
        for name in ("order", "stock", "flow"):
            setattr(self, name, type("P", (), {"socket": directory / f"{name}.sock"})())


async def serve(db: str, socket: str, shop_dir: str) -> None:
    store = SqliteEventStore(db, synchronous="full")
    topology = shop_topology(_Sockets(Path(shop_dir)))
    async with coordinator_on_socket(store, topology, socket, REACT_LIMITS) as coordinator:
        await coordinator.start_delivery()
        await ready_until_signalled()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--shop-dir", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.db, args.socket, args.shop_dir))


if __name__ == "__main__":
    main()
