"""The benchmarks' business service: a counter aggregate (and optionally a projector) served with the
client library's ``run_components``, exactly as a real service is.

``python counter_service.py counter`` serves :class:`Counter` (snapshot every 100 events);
``python counter_service.py plain`` serves :class:`PlainCounter` (never snapshots). ``--projector``
adds :class:`CounterView`, which appends one line per projected event to ``$BENCH_LAG_FILE``:
``<commit time ns> <projected time ns>`` (the page's ``created_at`` and the wall clock when the
projector handled it), for the projection-lag benchmark.

Where it listens comes from the environment ``angzarr standalone`` gives it (``TRANSPORT_TYPE``,
``UDS_BASE_PATH``, ``SERVICE_NAME``, ``DOMAIN``).
"""

from __future__ import annotations

import os
import sys
import time

from google.protobuf import wrappers_pb2

from angzarr_client import (
    CommandHandler,
    CommandRejectedError,
    Projector,
    ProjectorContext,
    applies,
    handles,
    run_components,
)

Add = wrappers_pb2.Int64Value  # the command: add ``value`` (> 0) to the counter
Total = wrappers_pb2.UInt64Value  # the event and the state: the counter's new total


class _CounterLogic(CommandHandler[Total], abstract=True):
    """Adds positive amounts; the event carries the new total."""

    @handles(Add)
    def add(self, cmd: Add) -> Total:
        if cmd.value <= 0:
            raise CommandRejectedError.invalid_argument(f"amount must be positive, got {cmd.value}")
        return Total(value=self.state.value + cmd.value)

    @applies(Total)
    def apply_total(self, state: Total, event: Total) -> None:
        state.value = event.value


class Counter(_CounterLogic):
    domain = "counter"
    snapshot_every = 100


class PlainCounter(_CounterLogic):
    domain = "plain"


class CounterView(Projector):
    """Records, per event, when it was committed and when it was projected."""

    name = "counter-view"
    input_domain = "counter"

    def __init__(self, path: str) -> None:
        self._out = open(path, "a", buffering=1)  # noqa: SIM115 - one line per event, for the service's life

    @handles(Total)
    def on_total(self, event: Total, ctx: ProjectorContext) -> None:
        created = ctx.page.created_at
        self._out.write(f"{created.seconds * 1_000_000_000 + created.nanos} {time.time_ns()}\n")


def main(argv: list[str]) -> None:
    kind = argv[0] if argv else "counter"
    handler = {"counter": Counter, "plain": PlainCounter}[kind]
    components: list[object] = [handler]
    if "--projector" in argv:
        components.append(CounterView(os.environ["BENCH_LAG_FILE"]))
    run_components(*components, service_name=kind)


if __name__ == "__main__":
    main(sys.argv[1:])
