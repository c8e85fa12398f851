"""Events the generation service consumes."""

from assistant_messaging.router import EventRouter

router = EventRouter("generation")
