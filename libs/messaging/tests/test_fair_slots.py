"""Job slots go to the users waiting for one in turn, each user's jobs in their own order."""

import asyncio

from assistant_messaging.consuming.fair_slots import FairSlots


async def run_all(slots: FairSlots, jobs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Starts `jobs` (user, number) in that order; the order in which they got their slot."""
    started: list[tuple[str, int]] = []

    async def job(user: str, number: int) -> None:
        async with slots.held(user):
            started.append((user, number))
            await asyncio.sleep(0)  # hold the slot a moment, as real work does

    await asyncio.gather(*(job(user, number) for user, number in jobs))
    return started


async def test_a_free_slot_goes_to_the_next_user_in_turn() -> None:
    jobs = [("ana", n) for n in range(5)] + [("bia", 0), ("caio", 0), ("bia", 1)]
    started = await run_all(FairSlots(1), jobs)
    assert started == [
        ("ana", 0),  # a free slot: taken at once
        ("ana", 1),  # then in turn, from the first who waited
        ("bia", 0),
        ("caio", 0),
        ("ana", 2),
        ("bia", 1),
        ("ana", 3),
        ("ana", 4),
    ]


async def test_a_job_cancelled_while_waiting_gives_up_its_place_only() -> None:
    slots = FairSlots(1)
    release = asyncio.Event()
    order: list[str] = []

    async def job(name: str) -> None:
        async with slots.held(name):
            order.append(name)
            await release.wait()

    first = asyncio.create_task(job("ana"))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(job("bia"))
    behind = asyncio.create_task(job("caio"))
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    await asyncio.gather(first, behind)
    assert waiting.cancelled()
    assert order == ["ana", "caio"]
    async with asyncio.timeout(1):  # and the slots all came back: a new job starts at once
        async with slots.held("dora"):
            pass


async def test_a_job_cancelled_just_as_it_was_granted_hands_its_slot_on() -> None:
    slots = FairSlots(1)
    order: list[str] = []
    waiters: list[asyncio.Task[None]] = []

    async def job(name: str) -> None:
        async with slots.held(name):
            order.append(name)
            await asyncio.sleep(0)

    async def first_then_cancel_the_next() -> None:
        async with slots.held("ana"):
            order.append("ana")
            waiters.extend([asyncio.create_task(job("bia")), asyncio.create_task(job("caio"))])
            await asyncio.sleep(0)  # both wait now
        waiters[0].cancel()  # granted the slot a moment ago, before it could run

    await first_then_cancel_the_next()
    async with asyncio.timeout(1):  # the slot was handed on, not lost
        await asyncio.gather(*waiters, return_exceptions=True)
    assert waiters[0].cancelled()
    assert order == ["ana", "caio"]
