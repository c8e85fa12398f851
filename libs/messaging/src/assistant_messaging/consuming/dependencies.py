"""A service's objects handed to its handlers by type.

A job handler or a listener declares what it needs as annotated parameters after its fixed
ones, and an answerer is itself such an object; the service provides one object of each type,
and `Provided` finds them once, at start (a handler asking for what was not provided fails the
start, not a message).
"""

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, get_type_hints

R = TypeVar("R")
T = TypeVar("T")


class Provided:
    def __init__(self, objects: Iterable[object]) -> None:
        self._objects = list(objects)

    def of(self, kind: type[T]) -> T:
        """The one provided object that is a `kind`."""
        found = [item for item in self._objects if isinstance(item, kind)]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} provided objects are a {kind.__name__}; exactly one must be"
            )
        return found[0]

    def bind(self, handler: Callable[..., Awaitable[R]], fixed: int) -> Callable[..., Awaitable[R]]:
        """`handler` with each parameter after its first `fixed` filled with the provided
        object of its annotated type."""
        hints = get_type_hints(handler)
        wanted = list(inspect.signature(handler).parameters)[fixed:]
        missing = [name for name in wanted if name not in hints]
        if missing:
            raise TypeError(f"{handler.__name__}: annotate {', '.join(missing)} with a type")
        given: dict[str, Any] = {name: self.of(hints[name]) for name in wanted}
        return functools.partial(handler, **given) if given else handler
