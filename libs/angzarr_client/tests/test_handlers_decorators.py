"""Decoration-time and class-creation checks of the handler decorators (contract items 47–49)."""

from __future__ import annotations

import dataclasses

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

from angzarr_client.handlers import (
    CommandHandler,
    applies,
    handles,
    handles_fact,
    prepares,
    rejected,
    upcasts,
)
from angzarr_client.handlers.decorators import handler_spec
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2


def _applier_mixin():
    """A minimal valid body: one applier, so only the behaviour under test can fail."""

    @applies(pb.PlayerRegistered)
    def apply_registered(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name

    return apply_registered


# -- item 47: domain ---------------------------------------------------------------------------------


def test_missing_domain_raises_at_class_creation():
    with pytest.raises(TypeError, match="domain"):

        class NoDomain(CommandHandler[pb.PlayerState]):
            apply_registered = _applier_mixin()


@pytest.mark.parametrize("bad", ["", "Player", "9lives", "has space", "x" * 65, 42, "player\n"])
def test_invalid_domain_raises_at_class_creation(bad):
    with pytest.raises(TypeError, match="domain"):

        class BadDomain(CommandHandler[pb.PlayerState]):
            domain = bad
            apply_registered = _applier_mixin()


@pytest.mark.parametrize("good", ["player", "_x", "a-b_c9", "p" * 64])
def test_valid_domains_are_accepted(good):
    class GoodDomain(CommandHandler[pb.PlayerState]):
        domain = good
        apply_registered = _applier_mixin()

    assert GoodDomain.domain == good


def test_abstract_class_is_exempt_and_subclass_is_checked():
    class Base(CommandHandler[pb.PlayerState], abstract=True):
        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
            return pb.PlayerRegistered(display_name=cmd.display_name)

    with pytest.raises(TypeError, match="domain"):

        class StillNoDomain(Base):
            apply_registered = _applier_mixin()

    class Concrete(Base):
        domain = "player"
        apply_registered = _applier_mixin()

    assert Concrete.command_types() == ["examples.RegisterPlayer"]


def test_class_without_any_applier_raises():
    with pytest.raises(TypeError, match="@applies"):

        class NoAppliers(CommandHandler[pb.PlayerState]):
            domain = "player"

            @handles(pb.RegisterPlayer)
            def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
                return pb.PlayerRegistered()


def test_apply_event_override_counts_as_applier_and_custom_state_factory_is_used():
    @dataclasses.dataclass
    class Counter:
        count: int = 0

    class Counting(CommandHandler):
        domain = "counter"

        def _create_empty_state(self) -> Counter:
            return Counter()

        def _apply_event(self, state, event_any) -> None:
            state.count += 1

    assert Counting().state == Counter(0)


def test_unresolvable_state_without_factory_raises():
    with pytest.raises(TypeError, match="State"):

        class Untyped(CommandHandler):
            domain = "player"
            apply_registered = _applier_mixin()


# -- item 48: hints and parameters -------------------------------------------------------------------


def test_wrong_hint_raises_at_decoration():
    with pytest.raises(TypeError, match="expected exactly examples.RegisterPlayer"):

        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.DepositFunds):
            return None


def test_missing_hint_raises_at_decoration():
    with pytest.raises(TypeError, match="needs the type hint"):

        @handles(pb.RegisterPlayer)
        def register(self, cmd):
            return None


def test_extra_parameter_without_default_raises_at_decoration():
    with pytest.raises(TypeError, match="'extra' needs a default"):

        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer, extra):
            return None


def test_extra_parameters_with_defaults_are_allowed():
    @handles(pb.RegisterPlayer)
    def register(self, cmd: pb.RegisterPlayer, state=None, seq: int | None = None):
        return None

    spec = handler_spec(register)
    assert spec.kind == "handles" and spec.type_name == "examples.RegisterPlayer"


def test_non_protobuf_type_raises():
    with pytest.raises(TypeError, match="protobuf message class"):

        @handles(dict)
        def register(self, cmd: dict):
            return None


def test_applies_checks_the_event_parameter_hint():
    with pytest.raises(TypeError, match="expected exactly examples.PlayerRegistered"):

        @applies(pb.PlayerRegistered)
        def apply(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
            return None


def test_one_decorator_per_method():
    with pytest.raises(TypeError, match="already decorated"):

        @handles_fact(pb.FundsDeposited)
        @handles(pb.FundsDeposited)
        def both(self, cmd: pb.FundsDeposited):
            return None


def test_ctx_parameter_is_rejected_on_a_command_handler():
    with pytest.raises(TypeError, match="self.cover"):

        class WithCtx(CommandHandler[pb.PlayerState]):
            domain = "player"
            apply_registered = _applier_mixin()

            @handles(pb.RegisterPlayer)
            def register(self, cmd: pb.RegisterPlayer, ctx):
                return None


def test_input_domain_is_rejected_on_a_command_handler():
    with pytest.raises(TypeError, match="input_domain"):

        class WithInputDomain(CommandHandler[pb.PlayerState]):
            domain = "player"
            apply_registered = _applier_mixin()

            @handles(pb.RegisterPlayer, input_domain="table")
            def register(self, cmd: pb.RegisterPlayer):
                return None


def test_upcasts_requires_the_new_type_as_return_hint():
    with pytest.raises(TypeError, match="return hint"):

        @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
        def up(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.UInt32Value:
            return wrappers_pb2.UInt32Value()

    @upcasts(wrappers_pb2.Int32Value, wrappers_pb2.Int64Value)
    def fine(self, old: wrappers_pb2.Int32Value) -> wrappers_pb2.Int64Value:
        return wrappers_pb2.Int64Value(value=old.value)

    assert handler_spec(fine).output_type is wrappers_pb2.Int64Value


def test_rejected_takes_a_class_or_a_full_name():
    @rejected("table", table_pb2.JoinTable)
    def by_class(self, ctx):
        return None

    @rejected("table", "examples.JoinTable")
    def by_name(self, ctx):
        return None

    assert handler_spec(by_class).type_name == handler_spec(by_name).type_name == "examples.JoinTable"
    with pytest.raises(TypeError):

        @rejected("table", 12)
        def by_number(self, ctx):
            return None


def test_prepares_is_not_allowed_on_a_command_handler():
    with pytest.raises(TypeError, match="@prepares"):

        class Preparing(CommandHandler[pb.PlayerState]):
            domain = "player"
            apply_registered = _applier_mixin()

            @prepares(pb.PlayerRegistered)
            def prep(self, event: pb.PlayerRegistered):
                return []


# -- item 49: duplicates ---------------------------------------------------------------------------------


def test_two_methods_for_one_command_raise():
    with pytest.raises(TypeError, match="examples.RegisterPlayer is handled by both"):

        class Twice(CommandHandler[pb.PlayerState]):
            domain = "player"
            apply_registered = _applier_mixin()

            @handles(pb.RegisterPlayer)
            def first(self, cmd: pb.RegisterPlayer):
                return None

            @handles(pb.RegisterPlayer)
            def second(self, cmd: pb.RegisterPlayer):
                return None


def _created_in(package: str):
    """A message class ``<package>.Created`` from a private descriptor pool."""
    pool = descriptor_pool.DescriptorPool()
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{package}/created.proto", package=package, syntax="proto3"
    )
    message = file.message_type.add(name="Created")
    message.field.add(
        name="id",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Created"))


ACreated = _created_in("a")
BCreated = _created_in("b")


def test_same_short_name_in_different_packages_coexists():
    class Both(CommandHandler[pb.PlayerState]):
        domain = "player"
        apply_registered = _applier_mixin()

        @handles(ACreated)
        def a(self, cmd: ACreated):
            return None

        @handles(BCreated)
        def b(self, cmd: BCreated):
            return None

    assert Both.command_types() == ["a.Created", "b.Created"]


def test_overriding_a_method_by_name_replaces_its_entry():
    class Base(CommandHandler[pb.PlayerState], abstract=True):
        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer):
            return pb.PlayerRegistered(display_name="base")

    class Child(Base):
        domain = "player"
        apply_registered = _applier_mixin()

        @handles(pb.RegisterPlayer)
        def register(self, cmd: pb.RegisterPlayer):
            return pb.PlayerRegistered(display_name="child")

    assert Child().register(pb.RegisterPlayer()).display_name == "child"
    assert Child().state.display_name == ""


def test_a_type_cannot_be_both_command_and_fact():
    with pytest.raises(TypeError, match="both a command and a fact"):

        class Mixed(CommandHandler[pb.PlayerState]):
            domain = "player"
            apply_registered = _applier_mixin()

            @handles(pb.DepositFunds)
            def deposit(self, cmd: pb.DepositFunds):
                return None

            @handles_fact(pb.DepositFunds)
            def deposit_fact(self, fact: pb.DepositFunds) -> None:
                return None


def test_snapshot_every_with_dataclass_state_raises():
    @dataclasses.dataclass
    class Plain:
        n: int = 0

    with pytest.raises(TypeError, match="snapshot_every"):

        class Snappy(CommandHandler[Plain]):
            domain = "player"
            snapshot_every = 3

            def _apply_event(self, state, event) -> None:
                state.n += 1


def test_snapshot_every_must_be_positive():
    with pytest.raises(TypeError, match="positive"):

        class Zero(CommandHandler[pb.PlayerState]):
            domain = "player"
            snapshot_every = 0
            apply_registered = _applier_mixin()
