"""Reading a provider's event stream: each event's data decoded once, OpenAI's `[DONE]` ends
it, and an error sent mid-stream becomes a `ProviderError` of the right class."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from generation_service.providers import sse
from generation_service.providers.base import ProviderError


async def lines(*given: str) -> AsyncIterator[str]:
    for line in given:
        yield line


async def read(*given: str) -> list[dict[str, Any]]:
    return [event async for event in sse.events(lines(*given))]


async def test_events_are_decoded_until_done_whatever_their_names_and_comments() -> None:
    found = await read(
        ": a comment",
        "event: message_start",
        'data: {"type": "message_start"}',
        "",
        'data:{"n": 1}',
        "",
        "data: [DONE]",
        "",
        'data: {"never": "read"}',
        "",
    )
    assert found == [{"type": "message_start"}, {"n": 1}]


async def test_data_over_several_lines_is_one_event_and_the_last_needs_no_blank_line() -> None:
    assert await read('data: {"a":', "data: 1}", "", 'data: {"b": 2}') == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize(
    ("data", "error_class"),
    [
        ('{"error": {"message": "boom", "type": "server_error"}}', "server_error"),
        (
            '{"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}',
            "overloaded",
        ),
        (
            '{"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}',
            "rate_limited",
        ),
        ("[1, 2]", "server_error"),
    ],
)
async def test_an_error_sent_mid_stream_is_a_provider_error(data: str, error_class: str) -> None:
    with pytest.raises(ProviderError) as raised:
        await read('data: {"ok": true}', "", f"data: {data}", "")
    assert raised.value.error_class == error_class
    assert raised.value.retryable
