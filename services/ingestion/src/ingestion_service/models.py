"""Tables of the `ingestion` schema."""

from assistant_db import service_metadata
from assistant_messaging.tables import add_messaging_tables

SCHEMA = "ingestion"

metadata = service_metadata(SCHEMA)
messaging = add_messaging_tables(metadata)
