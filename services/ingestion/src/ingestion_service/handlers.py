"""Events the ingestion service consumes in batches (its documents are jobs: see
`ingesting`)."""

from assistant_messaging.router import EventRouter

router = EventRouter("ingestion")
