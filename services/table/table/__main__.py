"""Serve the table aggregate and ``table-saga`` on one server: ``python -m table``.

Where it listens comes from the environment, read by the library's server helpers: ``TRANSPORT_TYPE``
(``tcp``/``uds``), ``PORT``, ``UDS_BASE_PATH``, ``SERVICE_NAME`` (the socket is
``<UDS_BASE_PATH>/<SERVICE_NAME>-table.sock``). SIGTERM/SIGINT stop it gracefully.
"""

from angzarr_client import configure_logging, run_components
from table import Table, TableSaga


def main() -> None:
    configure_logging()
    run_components(Table, TableSaga(), service_name="table")


if __name__ == "__main__":
    main()
