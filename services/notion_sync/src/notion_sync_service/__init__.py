"""Writes generated content to Notion, exactly one page per request."""
