"""Calls to the business side of subscribers: sagas, process managers and projectors.

Each call carries the trace context and the handler timeout; a failure becomes a ``DeliveryError``
with the subscriber's status code, which the tailer classifies (§6.5): unreachable, retryable or
poison.
"""

from __future__ import annotations

import grpc

from angzarr_client.proto.angzarr import (
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)

from ..handlers import ChannelPool, trace_metadata
from ..topology import Limits
from .records import DeliveryError, Subscriber


class SubscriberCalls:
    def __init__(self, limits: Limits) -> None:
        self.channels = ChannelPool(limits)
        self.timeout = limits.handler_timeout

    async def close(self) -> None:
        await self.channels.close()

    async def _call(self, subscriber: Subscriber, method, request):
        try:
            return await method(request, timeout=self.timeout, metadata=trace_metadata())
        except grpc.aio.AioRpcError as err:
            code = err.code()
            message = err.details() or ""
            if code == grpc.StatusCode.UNAVAILABLE:
                message = f"{subscriber.key} is unreachable at {subscriber.endpoint}: {message}"
            elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
                message = f"{subscriber.key} did not answer within {self.timeout:g} s"
            raise DeliveryError(code, message) from None

    async def saga(self, subscriber: Subscriber, request: saga_pb2.SagaHandleRequest) -> saga_pb2.SagaResponse:
        stub = saga_pb2_grpc.SagaServiceStub(self.channels.channel(subscriber.endpoint))
        return await self._call(subscriber, stub.Handle, request)

    async def pm_prepare(
        self, subscriber: Subscriber, request: process_manager_pb2.ProcessManagerPrepareRequest
    ) -> process_manager_pb2.ProcessManagerPrepareResponse:
        stub = process_manager_pb2_grpc.ProcessManagerServiceStub(self.channels.channel(subscriber.endpoint))
        return await self._call(subscriber, stub.Prepare, request)

    async def pm_handle(
        self, subscriber: Subscriber, request: process_manager_pb2.ProcessManagerHandleRequest
    ) -> process_manager_pb2.ProcessManagerHandleResponse:
        stub = process_manager_pb2_grpc.ProcessManagerServiceStub(self.channels.channel(subscriber.endpoint))
        return await self._call(subscriber, stub.Handle, request)

    async def project(self, subscriber: Subscriber, book: types_pb2.EventBook) -> types_pb2.Projection:
        stub = projector_pb2_grpc.ProjectorServiceStub(self.channels.channel(subscriber.endpoint))
        return await self._call(subscriber, stub.Handle, book)

    async def project_speculative(self, subscriber: Subscriber, book: types_pb2.EventBook) -> types_pb2.Projection:
        stub = projector_pb2_grpc.ProjectorServiceStub(self.channels.channel(subscriber.endpoint))
        return await self._call(subscriber, stub.HandleSpeculative, book)
