"""Events the ingestion service consumes."""

from assistant_messaging.router import EventRouter

router = EventRouter("ingestion")
