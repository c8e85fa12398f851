"""Publishing events straight to their registry topics, outside any outbox: for tools, tests
and benchmarks that play another system (the design lets other systems publish directly)."""

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from assistant_schemas import Envelope
from assistant_schemas.topics import topic_for_event


async def publish_directly(bootstrap_servers: str, events: Iterable[Envelope[Any]]) -> None:
    """Each event on its topic, keyed as the registry says, acknowledged before returning."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        for event in events:
            topic = topic_for_event(event)
            await producer.send_and_wait(topic.name, event.to_json(), key=topic.key_for(event))
    finally:
        await producer.stop()
