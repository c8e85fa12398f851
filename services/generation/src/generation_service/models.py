"""Tables of the `generation` schema."""

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "generation"

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)
