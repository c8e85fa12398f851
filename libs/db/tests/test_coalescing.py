import asyncio

import pytest

from assistant_db.coalescing import Coalescer


class Writes:
    """Records each write's items; a write waits for `release` while `hold` is set."""

    def __init__(self, bad: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.bad = bad
        self.hold = asyncio.Event()
        self.release = asyncio.Event()

    async def write(self, items: list[int]) -> list[int]:
        if self.hold.is_set():
            await self.release.wait()
        if self.bad in items:
            raise ValueError(f"{self.bad} breaks a constraint")
        self.batches.append(items)
        return [item * 10 for item in items]


async def test_a_lone_submission_is_written_at_once_and_alone() -> None:
    writes = Writes()
    assert await Coalescer(writes.write, max_items=10).submit(1) == 10
    assert writes.batches == [[1]]


async def test_submissions_arriving_during_a_write_go_together_in_the_next() -> None:
    writes = Writes()
    coalescer = Coalescer(writes.write, max_items=10)
    writes.hold.set()
    first = asyncio.create_task(coalescer.submit(1))
    await asyncio.sleep(0)  # the first write is in flight
    rest = [asyncio.create_task(coalescer.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert writes.batches == []
    assert not first.done()

    writes.release.set()
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40]  # each its own result
    assert writes.batches == [[1], [2, 3, 4]]


async def test_a_write_takes_at_most_max_items() -> None:
    writes = Writes()
    coalescer = Coalescer(writes.write, max_items=2)
    writes.hold.set()
    submitted = [asyncio.create_task(coalescer.submit(n)) for n in range(5)]
    await asyncio.sleep(0)
    writes.release.set()
    await asyncio.gather(*submitted)
    assert writes.batches == [[0, 1], [2, 3], [4]]


async def test_one_bad_item_fails_alone_and_its_neighbours_are_written() -> None:
    writes = Writes(bad=3)
    coalescer = Coalescer(writes.write, max_items=10)
    writes.hold.set()
    submitted = [asyncio.create_task(coalescer.submit(n)) for n in (1, 2, 3, 4)]
    await asyncio.sleep(0)
    writes.release.set()
    outcomes = await asyncio.gather(*submitted, return_exceptions=True)

    assert outcomes[:2] == [10, 20]
    assert isinstance(outcomes[2], ValueError)
    assert outcomes[3] == 40
    assert writes.batches == [[1], [2], [4]]  # all four failed together, then each alone


async def test_after_a_failure_the_coalescer_keeps_writing() -> None:
    writes = Writes(bad=1)
    coalescer = Coalescer(writes.write, max_items=10)
    with pytest.raises(ValueError, match="breaks a constraint"):
        await coalescer.submit(1)
    await coalescer.submit(2)
    assert writes.batches == [[2]]


@pytest.mark.parametrize("started", [False, True], ids=["before it started", "while writing"])
async def test_a_cancelled_writer_leaves_no_submission_waiting_forever(started: bool) -> None:
    writes = Writes()
    coalescer = Coalescer(writes.write, max_items=1)
    writes.hold.set()
    submitted = [asyncio.create_task(coalescer.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0)  # both queued, the writer not yet started
    if started:
        await asyncio.sleep(0)  # the writer is writing 1 and 2 waits
    writer = coalescer._writer  # its shutdown is what is tested
    assert writer is not None
    writer.cancel()
    outcomes = await asyncio.wait_for(asyncio.gather(*submitted, return_exceptions=True), 1)
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)

    writes.hold.clear()
    await coalescer.submit(3)  # a new writer serves what comes next
    assert writes.batches == [[3]]
