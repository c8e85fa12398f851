"""A request body read ahead by a middleware, given back to the application as it came."""

from starlette.types import Message, Receive


def replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that yields `messages` first, then whatever the client sends next."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
