"""Testing helpers: build books and requests, record client calls, fake gRPC errors, run servers."""

# ruff: noqa: F401

from angzarr_client.testing.books import (
    TEST_NAMESPACE,
    build_command_book,
    build_contextual_command,
    build_event_book,
    build_rejection,
    uuid_for,
)
from angzarr_client.testing.processes import ServedModule, serving_module, wait_until_serving
from angzarr_client.testing.servers import running_server
from angzarr_client.testing.stubs import RecordedCall, RecordingStub, rpc_error
