"""Events the analytics service consumes."""

from assistant_messaging.router import EventRouter

router = EventRouter("analytics")
