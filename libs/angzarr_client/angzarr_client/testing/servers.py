"""Run handler components on a real gRPC server for tests (TCP on a free port, or a Unix socket)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from angzarr_client.server import ServerHandle, create_server
from angzarr_client.servicers import servicer_for

__all__ = ["running_server"]


@contextmanager
def running_server(
    *components: Any, uds_path: str | None = None, reflection: bool = False, grace: float = 1.0
) -> Iterator[ServerHandle]:
    """Serve ``components`` (one of each kind) while the ``with`` block runs.

    Listens on ``127.0.0.1`` with a free port, or on ``uds_path`` when given; the process
    environment is neither read for transport settings nor changed. Dial ``handle.address``.

    Raises:
        TypeError: no components, or two of the same kind.
    """
    if not components:
        raise TypeError("running_server() needs at least one component")
    servicers = [servicer_for(c) for c in components]
    kinds = [s.kind for s in servicers]
    if len(set(kinds)) != len(kinds):
        raise TypeError(f"running_server(): one component of each kind, got {kinds}")
    environ = (
        {"TRANSPORT_TYPE": "uds", "UDS_PATH": uds_path}
        if uds_path is not None
        else {"TRANSPORT_TYPE": "tcp", "BIND_HOST": "127.0.0.1", "PORT": "0"}
    )
    first = servicers[0]
    handle = create_server(
        type(first)._add_fn, first, first.router.name, reflection=reflection, environ=environ
    )
    for extra in servicers[1:]:
        handle.add(type(extra)._add_fn, extra)
    handle.start()
    try:
        yield handle
    finally:
        handle.stop(grace)
