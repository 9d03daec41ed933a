"""Small reads remembered for the length of one request.

A customer list builds several filtersets per request (search windows, the count) and each
reads the same custom-field definitions. Remembering them per request removes the repeats
without a process-wide cache, which would need invalidating across processes. Outside a
request (jobs, commands, tests calling services) nothing is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")
_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("guanxi_request_memo", default=None)


class RequestMemoMiddleware:
    """Opens an empty memo for each request and drops it afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)


@contextmanager
def memo_scope() -> Iterator[None]:
    """Remember reads for the length of a unit of work outside a request (an import run,
    a job): the same rules as a request, ended when the block ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per request for ``key`` (every time outside a request)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(namespace: Hashable) -> None:
    """Drop what the current request remembered under ``namespace`` (the first key part),
    after a write that changes it."""
    memo = _memo.get()
    if memo:
        for key in [k for k in memo if k[0] == namespace]:
            del memo[key]
