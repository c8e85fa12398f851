"""What a service declares about itself; the runtime does the rest."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData

from assistant_messaging.consuming.router import EventRouter
from assistant_messaging.tables import MessagingTables


@dataclass(frozen=True)
class ServiceDefinition:
    """A service is its router (which names it), its tables (whose metadata names its schema)
    and its migrations."""

    router: EventRouter
    tables: MessagingTables
    migrations_dir: Path

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
