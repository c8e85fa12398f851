"""Events the notion_sync service consumes."""

from assistant_messaging.router import EventRouter

router = EventRouter("notion_sync")
