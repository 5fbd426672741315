"""``reactions.outputs.validate``: what a saga or process manager returns must be sendable (§4.1)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.reactions import outputs
from angzarr_coordinator.reactions.records import SAGA, DeliveryError, Subscriber

SUB = Subscriber(SAGA, "order-saga", "/tmp/none.sock", "order", ("order",), ("stock",))
ROOT = uuid.uuid4().bytes


def command(domain="stock", root=ROOT, pages=1, payload=True) -> types_pb2.CommandBook:
    book = types_pb2.CommandBook()
    book.cover.domain, book.cover.root.value = domain, root
    for _ in range(pages):
        page = book.pages.add()
        if payload:
            page.command.type_url = "type.googleapis.com/x.Reserve"
    return book


def fact(domain="stock", root=ROOT, pages=1, payload=True) -> types_pb2.EventBook:
    book = types_pb2.EventBook()
    book.cover.domain, book.cover.root.value = domain, root
    for _ in range(pages):
        page = book.pages.add()
        if payload:
            page.event.type_url = "type.googleapis.com/x.Reserved"
    return book


def test_well_formed_output_passes():
    outputs.validate(SUB, [command()], [fact("order")], {"stock"}, {"stock", "order"})


@pytest.mark.parametrize(("commands", "facts", "message"), [
    ([command("order")], [], "command 0 for unknown command domain 'order'"),
    ([command(), command(root=b"short")], [], "command 1 without a 16-byte root"),
    ([command(pages=0)], [], "command 0 without pages or with a page lacking its command"),
    ([command(payload=False)], [], "command 0 without pages or with a page lacking its command"),
    ([], [fact("elsewhere")], "fact 0 for unknown domain 'elsewhere'"),
    ([], [fact(root=b"")], "fact 0 without a 16-byte root"),
    ([], [fact(), fact(payload=False)], "fact 1 without pages or with a page lacking its event"),
    ([command("order")], [fact("elsewhere")], "command 0 for unknown command domain"),
])
def test_unsendable_output_is_a_poison_delivery_error(commands, facts, message):
    with pytest.raises(DeliveryError) as caught:
        outputs.validate(SUB, commands, facts, {"stock"}, {"stock", "order"})
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message.startswith(f"order-saga returned {message}")
