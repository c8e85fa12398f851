"""The pacer keeps each token within its rate in any second, counting a call until a second
after its answer, and lets tokens go independently."""

import asyncio
import time

from notion_sync_service.pacing import Pacer


async def paced_calls(pacer: Pacer, token: str, count: int, took_s: float) -> list[float]:
    """Runs `count` concurrent calls of `took_s` each; returns when each was let through."""
    started: list[float] = []

    async def call() -> None:
        async with pacer.slot(token):
            started.append(time.monotonic())
            await asyncio.sleep(took_s)

    await asyncio.gather(*(call() for _ in range(count)))
    return started


async def test_a_burst_goes_out_at_once_then_one_second_after_the_answers() -> None:
    pacer = Pacer(3)
    began = time.monotonic()
    started = await paced_calls(pacer, "token-a", 6, took_s=0.05)
    offsets = sorted(moment - began for moment in started)
    assert all(offset < 0.05 for offset in offsets[:3])  # the burst
    # the fourth waits a full second after the first answer, not after the first send
    assert offsets[3] >= 1.05 - 0.01


async def test_tokens_are_paced_independently() -> None:
    pacer = Pacer(2)
    began = time.monotonic()
    first, second = await asyncio.gather(
        paced_calls(pacer, "token-a", 2, 0.0), paced_calls(pacer, "token-b", 2, 0.0)
    )
    assert max(first + second) - began < 0.1


async def test_no_second_ever_holds_more_calls_than_the_rate() -> None:
    pacer = Pacer(4)
    started = await paced_calls(pacer, "token-a", 14, took_s=0.01)
    ordered = sorted(started)
    for index in range(len(ordered) - 4):
        assert ordered[index + 4] - ordered[index] >= 1.0
