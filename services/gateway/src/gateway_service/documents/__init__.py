"""Documents: uploads into the blob store and ingestion, their status, deletion, search."""
