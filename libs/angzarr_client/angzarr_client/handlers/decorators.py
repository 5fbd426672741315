"""Handler decorators: ``@handles``, ``@applies``, ``@handles_fact``, ``@rejected``, ``@prepares``, ``@upcasts``.

A decorator checks the method's shape once, when the class body runs, and attaches a
:class:`HandlerSpec` to it. The component base classes (``CommandHandler``, ``Saga``, ...) collect
those specs into dispatch tables at class creation (see :mod:`.tables`).

Decorated methods stay callable directly (that is how handlers are unit-tested): the wrapper
asks the instance's ``_invoke_decorated`` hook, which each base class defines, to run the call.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from angzarr_client.typeurl import full_name

__all__ = [
    "HandlerSpec",
    "applies",
    "handler_spec",
    "handles",
    "handles_fact",
    "prepares",
    "rejected",
    "upcasts",
]

SPEC_ATTRIBUTE = "__angzarr_handler__"

# Parameter names accepted for the optional context argument of event handlers.
_CONTEXT_NAMES = ("ctx", "context")


@dataclass(frozen=True)
class HandlerSpec:
    """What a decorator recorded about one handler method.

    ``kind`` is the decorator name. ``type_name`` is the full protobuf name the method is keyed
    by (for ``@rejected`` given as a string, the string itself, matched by R1 rules).
    """

    kind: str
    func: Callable[..., Any]
    message_type: type[Message] | None
    type_name: str
    input_domain: str | None = None
    rejected_domain: str | None = None
    output_type: type[Message] | None = None
    takes_context: bool = False
    context_required: bool = False
    message_param: str = ""

    @property
    def qualname(self) -> str:
        return self.func.__qualname__


def handler_spec(obj: Any) -> HandlerSpec | None:
    """The :class:`HandlerSpec` attached to ``obj`` by a decorator, or ``None``."""
    return getattr(obj, SPEC_ATTRIBUTE, None)


def _fail(fn: Callable[..., Any], decorator: str, problem: str) -> TypeError:
    return TypeError(f"@{decorator} on {fn.__qualname__}: {problem}")


def _require_message_class(fn: Callable[..., Any], decorator: str, value: Any, what: str) -> type[Message]:
    if not (isinstance(value, type) and issubclass(value, Message)) or value is Message:
        raise _fail(fn, decorator, f"{what} must be a protobuf message class, got {value!r}")
    return value


def _check_not_decorated(fn: Callable[..., Any], decorator: str) -> None:
    existing = handler_spec(fn)
    if existing is not None:
        raise _fail(
            fn, decorator, f"already decorated with @{existing.kind}; use one handler decorator per method"
        )
    if not callable(fn):
        raise TypeError(f"@{decorator} must decorate a function, got {fn!r}")


def _annotation_matches(
    fn: Callable[..., Any], annotation: Any, expected: type[Message], hints: dict[str, Any] | None, name: str
) -> bool:
    """Whether a parameter (or return) annotation is exactly ``expected``."""
    if hints is not None and name in hints:
        return hints[name] is expected
    if isinstance(annotation, str):
        # Hints that cannot be resolved yet (a forward reference to a name defined later in the
        # module): resolve this one name alone, else compare the last dotted component.
        try:
            return eval(annotation, getattr(fn, "__globals__", {})) is expected
        except Exception:
            return annotation.rsplit(".", 1)[-1] == expected.__name__
    return annotation is expected


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any] | None:
    try:
        return typing.get_type_hints(fn)
    except Exception:
        # Some hint in the signature (often the state's) is not resolvable at decoration time;
        # the message hint is then checked on its own.
        return None


def _check_signature(
    fn: Callable[..., Any],
    decorator: str,
    *,
    leading: int,
    message_type: type[Message] | None,
    context: str,
) -> tuple[bool, bool, str]:
    """Check ``fn``'s parameters.

    ``leading`` counts the positional parameters after ``self`` that the decorator requires; the
    last of them carries the message hint when ``message_type`` is given. ``context`` is
    ``"optional"`` when one extra ``ctx`` parameter may be declared without a default, else
    ``"none"``. Returns ``(takes_context, context_required, message parameter name)``.

    Raises:
        TypeError: a missing parameter, a missing or wrong message hint, or an extra parameter
            without a default.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:  # pragma: no cover - builtins only
        raise _fail(fn, decorator, f"cannot read its signature ({exc})") from exc
    params = [
        p
        for p in sig.parameters.values()
        if p.kind
        in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
    ]
    positional = [p for p in params if p.kind != inspect.Parameter.KEYWORD_ONLY]
    if len(positional) < 1 + leading:
        raise _fail(
            fn, decorator, f"expected {leading} parameter(s) after self, got {max(len(positional) - 1, 0)}"
        )
    if message_type is not None:
        message_param = positional[leading]
        if message_param.annotation is inspect.Parameter.empty:
            raise _fail(
                fn, decorator, f"parameter {message_param.name!r} needs the type hint {message_type.__name__}"
            )
        hints = _type_hints(fn)
        if not _annotation_matches(fn, message_param.annotation, message_type, hints, message_param.name):
            raise _fail(
                fn,
                decorator,
                f"parameter {message_param.name!r} is hinted {message_param.annotation!r}, "
                f"expected exactly {full_name(message_type)}",
            )
    takes_context = False
    context_required = False
    for extra in params[1 + leading :]:
        if extra.default is not inspect.Parameter.empty:
            if extra.name in _CONTEXT_NAMES and context == "optional" and not takes_context:
                takes_context = True
            continue
        if (
            context == "optional"
            and not takes_context
            and extra.name in _CONTEXT_NAMES
            and extra.kind != inspect.Parameter.KEYWORD_ONLY
        ):
            takes_context = True
            context_required = True
            continue
        raise _fail(fn, decorator, f"parameter {extra.name!r} needs a default value")
    return takes_context, context_required, positional[leading].name


def _attach(fn: Callable[..., Any], spec: HandlerSpec, *, wrap: bool) -> Callable[..., Any]:
    if not wrap:
        setattr(fn, SPEC_ATTRIBUTE, spec)
        return fn

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        invoke = getattr(self, "_invoke_decorated", None)
        if invoke is None:
            return fn(self, *args, **kwargs)
        return invoke(spec, args, kwargs)

    setattr(wrapper, SPEC_ATTRIBUTE, spec)
    return wrapper


def handles(
    message_type: type[Message], *, input_domain: str | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """Mark a command handler (on a CommandHandler) or an event handler (Saga, ProcessManager, Projector).

    Shapes: ``(self, cmd: Msg)`` on a CommandHandler (extra parameters need defaults);
    ``(self, event: Msg[, ctx])`` elsewhere. ``input_domain`` names the domain an event comes
    from and is only valid on event handlers (checked when the class is created).

    Raises:
        TypeError: ``message_type`` is not a protobuf class, the hint is missing or wrong, or an
            extra parameter has no default.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "handles")
        msg = _require_message_class(fn, "handles", message_type, "the handled type")
        if input_domain is not None and (not isinstance(input_domain, str) or not input_domain):
            raise _fail(fn, "handles", f"input_domain must be a non-empty string, got {input_domain!r}")
        takes_ctx, ctx_required, param = _check_signature(
            fn, "handles", leading=1, message_type=msg, context="optional"
        )
        spec = HandlerSpec(
            "handles",
            fn,
            msg,
            full_name(msg),
            input_domain=input_domain,
            takes_context=takes_ctx,
            context_required=ctx_required,
            message_param=param,
        )
        return _attach(fn, spec, wrap=True)

    return decorate


def applies(event_type: type[Message]) -> Callable[[Callable[..., Any]], Any]:
    """Mark an event applier ``(self, state, event: Event) -> None`` (CommandHandler, ProcessManager).

    Raises:
        TypeError: as for :func:`handles`.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "applies")
        msg = _require_message_class(fn, "applies", event_type, "the applied event type")
        _check_signature(fn, "applies", leading=2, message_type=msg, context="none")
        return _attach(fn, HandlerSpec("applies", fn, msg, full_name(msg)), wrap=False)

    return decorate


def handles_fact(event_type: type[Message]) -> Callable[[Callable[..., Any]], Any]:
    """Mark a fact handler ``(self, fact: Event) -> None`` on a CommandHandler.

    The method updates ``self.state`` and cannot reject; the fact is then recorded as an event.
    During state rebuild the same method applies the fact from history.

    Raises:
        TypeError: as for :func:`handles`.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "handles_fact")
        msg = _require_message_class(fn, "handles_fact", event_type, "the fact type")
        param = _check_signature(fn, "handles_fact", leading=1, message_type=msg, context="none")[2]
        return _attach(
            fn, HandlerSpec("handles_fact", fn, msg, full_name(msg), message_param=param), wrap=True
        )

    return decorate


def rejected(domain: str, command: type[Message] | str) -> Callable[[Callable[..., Any]], Any]:
    """Mark a compensation handler ``(self, ctx: CompensationContext)`` (CommandHandler, ProcessManager).

    It runs when a command of type ``command`` sent to ``domain`` by a reactor was rejected.
    ``command`` is a protobuf class or a full name (a string matches as in R1).

    Raises:
        TypeError: an empty domain, a ``command`` that is neither a class nor a name, or a method
            without the ``ctx`` parameter.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "rejected")
        if not isinstance(domain, str) or not domain:
            raise _fail(fn, "rejected", f"domain must be a non-empty string, got {domain!r}")
        if isinstance(command, str):
            if not command:
                raise _fail(fn, "rejected", "the command name must not be empty")
            msg, name = None, command
        else:
            msg = _require_message_class(fn, "rejected", command, "the rejected command")
            name = full_name(msg)
        _check_signature(fn, "rejected", leading=1, message_type=None, context="none")
        spec = HandlerSpec("rejected", fn, msg, name, rejected_domain=domain)
        return _attach(fn, spec, wrap=True)

    return decorate


def prepares(event_type: type[Message]) -> Callable[[Callable[..., Any]], Any]:
    """Mark a process-manager prepare hook ``(self, event: Event) -> Iterable[Cover]``.

    Raises:
        TypeError: as for :func:`handles`.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "prepares")
        msg = _require_message_class(fn, "prepares", event_type, "the trigger event type")
        param = _check_signature(fn, "prepares", leading=1, message_type=msg, context="none")[2]
        return _attach(fn, HandlerSpec("prepares", fn, msg, full_name(msg), message_param=param), wrap=False)

    return decorate


def upcasts(old: type[Message], new: type[Message]) -> Callable[[Callable[..., Any]], Any]:
    """Mark an upcaster method ``(self, old: Old) -> New``.

    Raises:
        TypeError: a non-protobuf type, a wrong parameter hint, or a return hint other than ``New``.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_not_decorated(fn, "upcasts")
        old_cls = _require_message_class(fn, "upcasts", old, "the old event type")
        new_cls = _require_message_class(fn, "upcasts", new, "the new event type")
        if old_cls is new_cls:
            raise _fail(fn, "upcasts", "the old and new types must differ")
        param = _check_signature(fn, "upcasts", leading=1, message_type=old_cls, context="none")[2]
        returns = inspect.signature(fn).return_annotation
        if returns is inspect.Signature.empty or not _annotation_matches(
            fn, returns, new_cls, _type_hints(fn), "return"
        ):
            raise _fail(fn, "upcasts", f"the return hint must be {new_cls.__name__}, got {returns!r}")
        return _attach(
            fn,
            HandlerSpec("upcasts", fn, old_cls, full_name(old_cls), output_type=new_cls, message_param=param),
            wrap=False,
        )

    return decorate
