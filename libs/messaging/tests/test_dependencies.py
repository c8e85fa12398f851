"""A handler's dependencies, filled in by type from what its service provides."""

import pytest

from assistant_messaging.consuming.dependencies import Provided


class Worker:
    def __init__(self, name: str) -> None:
        self.name = name


class SpecialWorker(Worker):
    pass


class Store:
    pass


async def job(event: str, headers: dict[str, str], worker: Worker, store: Store) -> str:
    return f"{event} by {worker.name} with {type(store).__name__}"


async def test_parameters_after_the_fixed_ones_are_filled_by_type() -> None:
    bound = Provided([Store(), SpecialWorker("w1")]).bind(job, 2)
    assert await bound("e", {}) == "e by w1 with Store"


def test_a_missing_or_ambiguous_dependency_fails_when_bound() -> None:
    with pytest.raises(LookupError, match="0 provided objects are a Store"):
        Provided([Worker("w")]).bind(job, 2)
    with pytest.raises(LookupError, match="2 provided objects are a Worker"):
        Provided([Worker("a"), SpecialWorker("b"), Store()]).bind(job, 2)


def test_an_unannotated_dependency_is_refused() -> None:
    async def untyped(event: str, worker) -> None:  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(TypeError, match="annotate worker"):
        Provided([Worker("w")]).bind(untyped, 1)
