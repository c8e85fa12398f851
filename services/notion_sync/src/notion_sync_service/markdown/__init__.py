"""Markdown into Notion blocks, within Notion's limits."""
