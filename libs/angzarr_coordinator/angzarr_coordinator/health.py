"""``grpc.health.v1`` for the coordinator's listeners.

Like the reference servicer, but ``close()`` ends every ``Watch`` stream after telling it
``NOT_SERVING``: a watcher (a load balancer, an operator) must learn about the shutdown and must not
hold the drain open until its grace runs out.
"""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class Health(health_pb2_grpc.HealthServicer):
    """Statuses by service name (``""`` = the whole process, NOT_SERVING until set)."""

    def __init__(self) -> None:
        self._status: dict[str, int] = {"": NOT_SERVING}
        self._changed = asyncio.Condition()
        self._version = 0
        self._closing = False

    def status(self, service: str) -> int | None:
        return self._status.get(service)

    async def set(self, service: str, status: int) -> None:
        """Set a status; ignored once ``close`` ran."""
        async with self._changed:
            if self._closing:
                return
            self._status[service] = status
            self._version += 1
            self._changed.notify_all()

    async def close(self) -> None:
        """Everything NOT_SERVING for good; watchers get that, then their stream ends."""
        async with self._changed:
            self._closing = True
            for service in self._status:
                self._status[service] = NOT_SERVING
            self._version += 1
            self._changed.notify_all()

    async def Check(self, request: health_pb2.HealthCheckRequest, context) -> health_pb2.HealthCheckResponse:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service '{request.service}'")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request: health_pb2.HealthCheckRequest, context) -> None:
        seen, last = -1, None
        while True:
            async with self._changed:
                while self._version == seen:
                    await self._changed.wait()
                seen = self._version
                status = self._status.get(request.service, SERVICE_UNKNOWN)
                closing = self._closing
            if status != last:
                await context.write(health_pb2.HealthCheckResponse(status=status))
                last = status
            if closing:
                return
