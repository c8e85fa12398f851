"""The caller's Notion connection, kept and checked by notion_sync."""
