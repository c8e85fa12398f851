"""The event being handled, as the context of every line logged while it is handled.

The consumer (and a responder, for a query) sets one context variable to the event. Binding
its three ids as structlog context variables instead cost 3.9 µs an event (two UUIDs turned
into text, three variables set and reset), against 0.2 µs: the ids are now rendered only for
the lines actually written, by `add_handled_event`, which the services' logging configuration
runs on every line.
"""

from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from assistant_schemas import Envelope

HANDLED_EVENT: ContextVar[Envelope[Any] | None] = ContextVar("handled_event", default=None)


def add_handled_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the handled event's ids, unless the line names them itself."""
    event = HANDLED_EVENT.get()
    if event is not None:
        event_dict.setdefault("event_id", str(event.event_id))
        event_dict.setdefault("correlation_id", event.correlation_id)
        event_dict.setdefault("user_id", str(event.user_id) if event.user_id else None)
    return event_dict
