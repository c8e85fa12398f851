"""Parses, chunks and embeds documents into pgvector, and serves search."""
