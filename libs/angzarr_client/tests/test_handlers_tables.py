"""A saga, projector or upcaster accepts only its own decorator (``tables.collect_only``)."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from angzarr_client.handlers import Projector, Saga, Upcaster, handles, upcasts


def test_a_saga_refuses_an_upcasts_method():
    with pytest.raises(TypeError, match=r"Bad\.up: @upcasts does not belong on a Saga"):

        class Bad(Saga):
            name = "bad"
            input_domain = "d"

            @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
            def up(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
                return wrappers_pb2.Int64Value(value=old.value)


def test_a_projector_refuses_an_upcasts_method():
    with pytest.raises(TypeError, match=r"Bad\.up: @upcasts does not belong on a Projector"):

        class Bad(Projector):
            name = "bad"
            input_domain = "d"

            @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
            def up(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
                return wrappers_pb2.Int64Value(value=old.value)


def test_an_upcaster_refuses_a_handles_method():
    with pytest.raises(TypeError, match=r"Bad\.on: @handles does not belong on an Upcaster"):

        class Bad(Upcaster):
            name = "bad"
            domain = "d"

            @handles(wrappers_pb2.Int32Value)
            def on(self, event: wrappers_pb2.Int32Value) -> None:
                return None
