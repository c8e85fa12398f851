"""Everything a service receives, declared in its `handlers.py` through one router.

- `@router.handles(Contract)` (or `handles_batch`): an event handled inside a database
  transaction with the inbox record, many per consumed batch (`consuming.consumer`).
- `@router.job(Contract)` (and `@router.abandons(Contract)`): long-running work, one task per
  record, one at a time per key, with the retry topic and the dead letter (`consuming.jobs`).
- `router.answers(Query, Answerer)`: a query answered over request/reply
  (`request_reply.responder`) by the service's `Answerer` (a callable taking the query).
- `@router.hears(Contract)`: a broadcast every instance reads from its end
  (`consuming.broadcast`).

Topics come only from the registry (`assistant_schemas.topics`). A job handler or a listener
may ask for the service's objects by type after its fixed parameters (`def
generate(event: GenerationRequestedV1, headers: Headers, worker: GenerationWorker)`): the
service provides them (`ServiceRuntime.provide`), `consuming.dependencies` fills them in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.publishing.outbox import Outbox
from assistant_schemas import ContractError, Envelope
from assistant_schemas.topics import RETRY_RETENTION, Topic, subscriptions

EventT = TypeVar("EventT", bound=Envelope[Any])


@dataclass(frozen=True)
class MessageContext:
    """What a handler may use: the open transaction, the outbox in it, and the message's origin.

    Everything written through `session` or `outbox` commits together with the inbox record.
    """

    session: AsyncSession
    outbox: Outbox
    topic: str
    attempt: int


Handler = Callable[[Any, MessageContext], Awaitable[None]]
BatchHandler = Callable[[list[Any], MessageContext], Awaitable[None]]
# (event, headers, *dependencies); an abandoner also takes the reason after the headers; a
# listener (event, *dependencies).
Declared = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=Declared)


class EventRouter:
    """Maps contracts to handlers. The topics consumed are the registry's subscriptions of
    `service`, unless `subscriptions` names others (tools and tests use their own topics)."""

    def __init__(self, service: str, subscriptions: Sequence[Topic] | None = None) -> None:
        self.service = service
        self._subscriptions = subscriptions
        self._handlers: dict[type[Envelope[Any]], Handler] = {}
        self._external: set[type[Envelope[Any]]] = set()
        self._batch: dict[type[Envelope[Any]], BatchHandler] = {}
        self.jobs: dict[type[Envelope[Any]], Declared] = {}
        self.abandoners: dict[type[Envelope[Any]], Declared] = {}
        self.answerers: dict[type[Envelope[Any]], type] = {}
        self.listeners: dict[type[Envelope[Any]], Declared] = {}

    def handles(
        self, event_class: type[EventT], *, external_effects: bool = False
    ) -> Callable[[Callable[[EventT, MessageContext], Awaitable[None]]], Handler]:
        """Registers a handler. `external_effects` marks one that calls the outside world (an
        LLM, Notion): it never runs twice because another event of its batch failed."""

        def register(handler: Callable[[EventT, MessageContext], Awaitable[None]]) -> Handler:
            if event_class in self._handlers:
                raise ValueError(f"{event_class.TYPE} v{event_class.VERSION} already handled")
            self._handlers[event_class] = handler
            if external_effects:
                self._external.add(event_class)
            return handler

        return register

    def handles_batch(
        self, event_class: type[EventT]
    ) -> Callable[[Callable[[list[EventT], MessageContext], Awaitable[None]]], BatchHandler]:
        """Registers a handler given every new event of the class in a consumed batch at once
        (one multi-row statement instead of one per event). If it fails, the batch is redone
        with a savepoint per event and the handler is called with one event at a time, so a
        bad event is isolated. The context's headers and attempt are those of the first event."""

        def register(
            handler: Callable[[list[EventT], MessageContext], Awaitable[None]],
        ) -> BatchHandler:
            async def one(event: EventT, context: MessageContext) -> None:
                await handler([event], context)

            self.handles(event_class)(one)
            self._batch[event_class] = handler
            return handler

        return register

    def job(self, contract: type[Envelope[Any]]) -> Callable[[F], F]:
        """Registers the job handler of `contract`: `(event, headers, *dependencies)`."""
        return _declaring(self.jobs, contract, "job")

    def abandons(self, contract: type[Envelope[Any]]) -> Callable[[F], F]:
        """Registers what ends a job of `contract` as failed before its record is
        dead-lettered: `(event, headers, reason, *dependencies)`."""
        return _declaring(self.abandoners, contract, "abandoner")

    def answers(self, query: type[Envelope[Any]], answerer: type) -> None:
        """Declares that the service's `answerer` object (a callable taking the query and
        returning the reply) answers `query`."""
        if query in self.answerers:
            raise ValueError(f"{query.TYPE} v{query.VERSION} already has an answerer")
        self.answerers[query] = answerer

    def hears(self, contract: type[Envelope[Any]]) -> Callable[[F], F]:
        """Registers a listener every instance runs for every `contract` broadcast from now
        on: `(event, *dependencies)`."""
        return _declaring(self.listeners, contract, "listener")

    def batch_handler_for(self, event: Envelope[Any]) -> BatchHandler | None:
        return self._batch.get(type(event))

    def has_external_effects(self, event: Envelope[Any]) -> bool:
        return type(event) in self._external

    def handler_for(self, event: Envelope[Any]) -> Handler:
        try:
            return self._handlers[type(event)]
        except KeyError:
            raise ContractError(
                f"type: {self.service} has no handler for {event.type} v{event.version}"
            ) from None

    def topics(self) -> list[str]:
        """The topics of the events this service handles in transactions: declared in the
        registry, handled here."""
        return [t.name for t in self._consumed()]

    def longest_retention(self) -> timedelta:
        """How long the longest-kept topic it consumes, its retry topic included, keeps a
        record: no record older than that can be delivered again."""
        return max([RETRY_RETENTION, *(t.retention for t in self._consumed())])

    def _consumed(self) -> list[Topic]:
        handled = set(self._handlers)
        declared = self._subscriptions or subscriptions(self.service)
        return [t for t in declared if handled & set(t.events)]


def _declaring(
    declared: dict[type[Envelope[Any]], Declared], contract: type[Envelope[Any]], kind: str
) -> Callable[[F], F]:
    def register(handler: F) -> F:
        if contract in declared:
            raise ValueError(f"{contract.TYPE} v{contract.VERSION} already has a {kind}")
        declared[contract] = handler
        return handler

    return register
