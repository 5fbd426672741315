"""Retry policies for transient RPC failures (R5).

Only transient failures are retried, never business rejections or bad input. Whether a failure is
transient depends on whether the call is idempotent: after a DEADLINE_EXCEEDED a command may or may
not have been applied, so a non-idempotent call is never resent then.
"""

from __future__ import annotations

import inspect
import math
import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import grpc

from .errors import ClientError, ConnectionError, TransportError

__all__ = [
    "RetryPolicy",
    "ExponentialBackoffRetry",
    "NoRetry",
    "default_retry_policy",
    "is_transient",
]

T = TypeVar("T")

# Codes after which a request is known not to have been processed, so even a command may be resent.
_SAFE_TO_RESEND = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


def is_transient(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Whether ``exc`` is worth retrying.

    Idempotent calls retry whatever ``ClientError.is_retryable()`` accepts. Non-idempotent calls retry
    only UNAVAILABLE, RESOURCE_EXHAUSTED, ``ConnectionError`` and ``TransportError``.
    """
    if not isinstance(exc, ClientError):
        return False
    if idempotent:
        return exc.is_retryable()
    return isinstance(exc, ConnectionError | TransportError) or exc.code in _SAFE_TO_RESEND


class RetryPolicy(Protocol):
    """Something that runs an operation, retrying it as it sees fit."""

    def execute(self, op: Callable[[], T], *, idempotent: bool = True) -> T:
        """Call ``op()`` until it succeeds or the policy gives up; then re-raise the last exception."""
        ...


class NoRetry:
    """A single attempt."""

    def execute(self, op: Callable[[], T], *, idempotent: bool = True) -> T:
        return op()

    def __repr__(self) -> str:
        return "NoRetry()"


class ExponentialBackoffRetry:
    """Retry transient failures with exponential backoff.

    Attempt ``n`` (from 0) that fails transiently, and is not the last, calls ``on_retry(n, exc)`` and
    sleeps ``min(min_delay * 2**n, max_delay)``, multiplied by a factor in [0.5, 1) when ``jitter``.

    Raises:
        ValueError: a delay is negative or not finite, ``max_delay < min_delay``, or
            ``max_attempts < 1``.
    """

    def __init__(
        self,
        min_delay: float = 0.1,
        max_delay: float = 5.0,
        max_attempts: int = 10,
        jitter: bool = True,
        on_retry: Callable[[int, BaseException], None] | None = None,
        retry_on: Callable[..., bool] = is_transient,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for name, value in (("min_delay", min_delay), ("max_delay", max_delay)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value!r}")
        if max_delay < min_delay:
            raise ValueError(f"max_delay ({max_delay}) must be at least min_delay ({min_delay})")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer of at least 1, got {max_attempts!r}")
        if on_retry is not None and not callable(on_retry):
            raise ValueError("on_retry must be callable")
        if not callable(retry_on):
            raise ValueError("retry_on must be callable")
        self.min_delay = float(min_delay)
        self.max_delay = float(max_delay)
        self.max_attempts = max_attempts
        self.jitter = bool(jitter)
        self.on_retry = on_retry
        self.retry_on = retry_on
        self._pass_idempotent = _accepts_keyword(retry_on, "idempotent")
        self._sleep = sleep
        self._random = random.Random()

    def delay(self, attempt: int) -> float:
        """The sleep after failed attempt ``attempt``, jitter included."""
        base = min(self.min_delay * (2.0**attempt), self.max_delay)
        if self.jitter:
            return base * (0.5 + 0.5 * self._random.random())
        return base

    def execute(self, op: Callable[[], T], *, idempotent: bool = True) -> T:
        attempt = 0
        while True:
            try:
                return op()
            except Exception as exc:
                last = attempt + 1 >= self.max_attempts
                if last or not self._should_retry(exc, idempotent):
                    raise
                if self.on_retry is not None:
                    self.on_retry(attempt, exc)
                self._sleep(self.delay(attempt))
                attempt += 1

    def _should_retry(self, exc: BaseException, idempotent: bool) -> bool:
        if self._pass_idempotent:
            return bool(self.retry_on(exc, idempotent=idempotent))
        return bool(self.retry_on(exc))

    def __repr__(self) -> str:
        return (
            f"ExponentialBackoffRetry(min_delay={self.min_delay}, max_delay={self.max_delay}, "
            f"max_attempts={self.max_attempts}, jitter={self.jitter})"
        )


def _accepts_keyword(fn: Callable[..., object], name: str) -> bool:
    """Whether ``fn`` takes keyword ``name`` (a custom ``retry_on`` may take only the exception)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def default_retry_policy() -> ExponentialBackoffRetry:
    """The policy clients use when none is given: ``ExponentialBackoffRetry()``."""
    return ExponentialBackoffRetry()
