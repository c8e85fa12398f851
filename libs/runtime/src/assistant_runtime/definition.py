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
    name: str
    metadata: MetaData
    tables: MessagingTables
    migrations_dir: Path
    router: EventRouter
    queries: dict[str, QueryHandler] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        assert self.metadata.schema
        return self.metadata.schema
