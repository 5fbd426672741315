"""A coordinator in its own process, for crash tests: ``SqliteEventStore`` (synchronous=full) and a
``Coordinator`` over the bank topology, served on a Unix socket until killed.

Usage: python run_coordinator.py --db FILE --socket PATH --handler-socket PATH
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coord_support import bank_topology, coordinator_on_socket, ready_until_signalled  # noqa: E402

from angzarr_coordinator.store.sqlite import SqliteEventStore  # noqa: E402


async def serve(db: str, socket: str, handler_socket: str) -> None:
    # Warnings and errors only, on stderr: stdout carries the READY line and is not read afterwards.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    store = SqliteEventStore(db, synchronous="full")
    async with coordinator_on_socket(store, bank_topology(handler_socket), socket):
        await ready_until_signalled()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--handler-socket", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.db, args.socket, args.handler_socket))


if __name__ == "__main__":
    main()
