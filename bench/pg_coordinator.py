"""A coordinator on PostgreSQL for the benchmarks: ``Coordinator`` over ``PostgresEventStore`` for the
``counter`` domain, served by ``grpc.aio`` on a Unix socket until SIGTERM/SIGINT (``angzarr standalone``
is SQLite-only, so this is the same coordinator code, hosted the way the sidecar hosts it).

Usage: python pg_coordinator.py --dsn URL --socket PATH --handler-socket PATH
Prints ``READY`` on stdout once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import grpc
from loadgen import CHANNEL_OPTIONS

from angzarr_coordinator.app import Coordinator
from angzarr_coordinator.observability import configure_logging
from angzarr_coordinator.store.postgres import PostgresEventStore
from angzarr_coordinator.topology import CommandHandlerSpec, ServiceSpec, Topology


async def serve(dsn: str, socket: str, handler_socket: str) -> None:
    configure_logging()
    store = PostgresEventStore(dsn)
    await store.open()
    topology = Topology(services=(
        ServiceSpec(name="counter", endpoint=handler_socket, command_handler=CommandHandlerSpec("counter")),
    ))
    coordinator = Coordinator(store, topology)
    await coordinator.start()
    server = grpc.aio.server(options=CHANNEL_OPTIONS)
    coordinator.register(server)
    server.add_insecure_port(f"unix:{socket}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    await coordinator.stop(grace=1)
    await server.stop(1)
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--handler-socket", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.dsn, args.socket, args.handler_socket))


if __name__ == "__main__":
    main()
