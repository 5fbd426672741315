"""A tiny business service for the runtime tests, started by ``angzarr standalone``.

It serves ``CommandHandlerService`` (each command page becomes an event with the same payload) and
``grpc.health.v1`` where spec/coordinator.md §10.1 says a service listens: ``UDS_PATH``, else
``<UDS_BASE_PATH>/<SERVICE_NAME>-<DOMAIN>.sock``, or ``BIND_HOST:PORT`` with ``TRANSPORT_TYPE=tcp``.

Test knobs: ``ECHO_STATE_DIR`` (writes ``<DOMAIN>.pid`` and ``<DOMAIN>.env.json`` at each start),
``ECHO_FAIL_AT_START`` (print to stderr and exit 3 before serving), ``ECHO_IGNORE_SIGTERM``,
``ECHO_DELAY`` (seconds each command takes; writes ``handling`` in the state dir when one starts),
``ECHO_PROJECTOR`` (also serve ``ProjectorService``, logging each delivered page to ``projected.log``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    projector_pb2_grpc,
    types_pb2,
)


class Echo(command_handler_pb2_grpc.CommandHandlerServiceServicer):
    async def Handle(self, request, context):
        delay = float(os.environ.get("ECHO_DELAY", "0") or 0)
        if delay:
            Path(os.environ.get("ECHO_STATE_DIR", "/tmp"), "handling").write_text("1")
            await asyncio.sleep(delay)
        pages = [types_pb2.EventPage(event=page.command) for page in request.command.pages]
        return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=pages))


class CountingProjector(projector_pb2_grpc.ProjectorServiceServicer):
    """Appends one line per delivered page to ``<ECHO_STATE_DIR>/projected.log``."""

    async def Handle(self, request, context):
        with Path(os.environ["ECHO_STATE_DIR"], "projected.log").open("a") as out:
            for page in request.pages:
                out.write(f"{request.cover.domain} {page.header.sequence}\n")
        last = request.pages[-1].header.sequence if request.pages else 0
        return types_pb2.Projection(cover=request.cover, projector=os.environ.get("ECHO_PROJECTOR", ""),
                                    sequence=last)


def address() -> tuple[str, str | None]:
    if os.environ.get("TRANSPORT_TYPE", "tcp").lower() == "tcp":
        return f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ['PORT']}", None
    path = os.environ.get("UDS_PATH") or (
        f"{os.environ.get('UDS_BASE_PATH', '/tmp/angzarr')}/"
        f"{os.environ.get('SERVICE_NAME', 'business')}-{os.environ.get('DOMAIN', '')}.sock"
    )
    return f"unix:{path}", path


async def main() -> None:
    domain = os.environ.get("DOMAIN", "")
    state = os.environ.get("ECHO_STATE_DIR")
    if state:
        Path(state, f"{domain}.pid").write_text(str(os.getpid()))
        Path(state, f"{domain}.env.json").write_text(json.dumps(dict(os.environ)))
    if os.environ.get("ECHO_FAIL_AT_START"):
        print(f"echo {domain}: refusing to start: {os.environ['ECHO_FAIL_AT_START']}", file=sys.stderr, flush=True)
        sys.exit(3)
    target, path = address()
    if path and os.path.exists(path):
        os.unlink(path)
    server = grpc.aio.server()
    command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server(Echo(), server)
    if os.environ.get("ECHO_PROJECTOR"):
        projector_pb2_grpc.add_ProjectorServiceServicer_to_server(CountingProjector(), server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    server.add_insecure_port(target)
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    print(f"echo {domain}: serving on {target}", flush=True)
    print(json.dumps({"event": "echo_ready", "domain": domain}), flush=True)
    print(f"echo {domain}: a line on stderr", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if os.environ.get("ECHO_IGNORE_SIGTERM"):
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
    else:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(1)
    if path and os.path.exists(path):
        os.unlink(path)
    print(f"echo {domain}: stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
