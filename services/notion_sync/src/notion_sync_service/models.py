"""Tables of the `notion_sync` schema."""

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "notion_sync"

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)
