"""Serve the hand bounded context: ``python -m hand``.

One gRPC server hosts the ``Hand`` command handler, the ``hand-saga``, the ``hand-flow`` process manager
and the ``hand-log`` projector; the action clock runs beside them in a background thread and is told
of every turn the process manager requests.

Transport, port and socket come from the environment (``TRANSPORT_TYPE``, ``PORT``, ``UDS_BASE_PATH``,
``SERVICE_NAME``, ...; see the client library's server helpers); logging from ``LOG_LEVEL``/``LOG_FORMAT``;
the hand log's files from ``HAND_LOG_FILE``/``HAND_LOG_DB``; the clock reaches the coordinator at
``resolve_ch_endpoint("hand")`` (``ANGZARR_MODE``, ``ANGZARR_UDS_BASE``, ...).
"""

from __future__ import annotations

from angzarr_client.logging import configure_logging
from angzarr_client.server import run_components

from .aggregate import Hand
from .clock import ActionClock
from .flow import HandFlow
from .handlog import HandLog, HandLogPaths, HandLogStore
from .saga import HandSaga

SERVICE_NAME = "hand"
DEFAULT_PORT = "50052"


def main() -> None:
    """Serve the hand's components until SIGTERM/SIGINT."""
    configure_logging()
    paths = HandLogPaths.from_env()
    store = HandLogStore(paths.db, paths.text)
    clock = ActionClock()
    clock.start()
    try:
        run_components(
            Hand, HandSaga(), HandFlow(turn_listener=clock), HandLog(store),
            default_port=DEFAULT_PORT, service_name=SERVICE_NAME,
        )
    finally:
        clock.close()
        store.close()


if __name__ == "__main__":
    main()
