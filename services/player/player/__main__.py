"""Serve the player aggregate: ``python -m player``.

Where it listens comes from the environment, read by the library's server helpers: ``TRANSPORT_TYPE``
(``tcp``/``uds``), ``PORT``, ``UDS_BASE_PATH``, ``SERVICE_NAME`` (the socket is
``<UDS_BASE_PATH>/<SERVICE_NAME>-player.sock``). SIGTERM/SIGINT stop it gracefully.
"""

from angzarr_client import configure_logging, run_command_handler_server
from player import Player


def main() -> None:
    configure_logging()
    run_command_handler_server(Player, service_name="player")


if __name__ == "__main__":
    main()
