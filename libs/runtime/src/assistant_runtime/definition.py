"""What a service declares about itself; the runtime does the rest."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from assistant_messaging.router import EventRouter
from assistant_messaging.tables import MessagingTables
from assistant_schemas import Envelope

QueryHandler = Callable[[Any], Awaitable[Envelope[Any]]]


@dataclass(frozen=True)
class ServiceDefinition:
    """A service is its router (which names it), its tables (whose metadata names its schema),
    its migrations, and the queries it answers."""

    router: EventRouter
    tables: MessagingTables
    migrations_dir: Path
    queries: dict[str, QueryHandler] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.router.service

    @property
    def metadata(self) -> MetaData:
        return self.tables.outbox.metadata

    @property
    def schema(self) -> str:
        assert self.metadata.schema
        return self.metadata.schema
