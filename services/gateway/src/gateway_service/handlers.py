"""Events the gateway service consumes."""

from assistant_messaging.router import EventRouter

router = EventRouter("gateway")
