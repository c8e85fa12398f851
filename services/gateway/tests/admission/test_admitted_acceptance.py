"""Work accepted with its admission, in one statement: written if and only if admitted."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_db import driver_connection
from gateway_service.admission.gate import (
    Acceptance,
    Admissions,
    Gate,
    Known,
    Query,
    StatusRow,
    found,
)
from gateway_service.admission.rate_limits import window_of
from gateway_service.auth.callers import Credential, key_hash
from gateway_service.models import access_keys, messaging, rate_limit_windows, requests, users
from gateway_test_support import solo_user

SOLO_GENERATION = 100


def generation(user: uuid.UUID) -> Acceptance:
    """A request of `user` and the event that would start it."""
    event = {
        "event_id": uuid.uuid4(),
        "topic": "generation.requested",
        "key": user.bytes,
        "headers": {},
        "payload": b"{}",
    }
    return Acceptance(user, [StatusRow(uuid.uuid4(), "generation")], [event])


def query(credential: Credential) -> Query:
    return Query(credential, "generation", "generate", check_budget=True)


async def written(connection: AsyncConnection, acceptance: Acceptance) -> tuple[int, int]:
    """How many of the acceptance's request rows and events were written."""
    [(request_id, _, _)] = acceptance.requests
    rows = await connection.scalar(
        select(func.count()).select_from(requests).where(requests.c.id == request_id)
    )
    events = await connection.scalar(
        select(func.count())
        .select_from(messaging.outbox)
        .where(messaging.outbox.c.event_id == acceptance.events[0]["event_id"])
    )
    return rows or 0, events or 0


async def accept(
    connection: AsyncConnection, credential: Credential, acceptance: Acceptance, now: datetime
) -> Any:
    database = await driver_connection(connection)
    [(row, _)] = await found(database, [(query(credential), acceptance)], now)
    return row


async def test_an_admitted_request_is_written_with_its_count(connection: AsyncConnection) -> None:
    user = uuid.uuid4()
    await connection.execute(insert(users).values(**solo_user(user)))
    acceptance = generation(user)
    row = await accept(connection, Credential(user_id=user), acceptance, datetime.now(UTC))
    assert row["current_count"] == 1
    assert await written(connection, acceptance) == (1, 1)


async def test_a_request_past_the_rate_limit_writes_nothing(connection: AsyncConnection) -> None:
    user = uuid.uuid4()
    now = datetime.now(UTC).replace(second=30)
    await connection.execute(insert(users).values(**solo_user(user)))
    await connection.execute(
        insert(rate_limit_windows).values(
            user_id=user, family="generation", window_start=window_of(now), count=SOLO_GENERATION
        )
    )
    acceptance = generation(user)
    row = await accept(connection, Credential(user_id=user), acceptance, now)
    admission = await Gate().decided(
        await driver_connection(connection), query(Credential(user_id=user)), row, now
    )
    assert admission is not None
    assert admission.decision is not None
    assert not admission.decision.allowed
    assert await written(connection, acceptance) == (0, 0)
    # The refused request's count is taken back.
    count = await connection.scalar(
        select(rate_limit_windows.c.count).where(rate_limit_windows.c.user_id == user)
    )
    assert count == SOLO_GENERATION


async def test_the_previous_windows_weight_decides_as_the_gate_does(
    connection: AsyncConnection,
) -> None:
    """Half way through a minute, half of the previous minute's 150 weigh in: 75 + 25 is the
    limit, and the 26th of this minute is one too many."""
    user = uuid.uuid4()
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    await connection.execute(insert(users).values(**solo_user(user)))
    await connection.execute(
        insert(rate_limit_windows).values(
            user_id=user,
            family="generation",
            window_start=window_of(now) - timedelta(minutes=1),
            count=150,
        )
    )
    outcomes = []
    for _ in range(26):
        acceptance = generation(user)
        await accept(connection, Credential(user_id=user), acceptance, now)
        outcomes.append(await written(connection, acceptance))
    assert outcomes == [(1, 1)] * 25 + [(0, 0)]


async def test_a_revoked_key_writes_nothing(connection: AsyncConnection) -> None:
    user, key = uuid.uuid4(), "na_" + uuid.uuid4().hex
    await connection.execute(insert(users).values(**solo_user(user)))
    await connection.execute(
        insert(access_keys).values(
            id=uuid.uuid4(),
            user_id=user,
            name="revoked",
            prefix=key[:11],
            key_hash=key_hash(key),
            revoked_at=datetime.now(UTC),
        )
    )
    acceptance = generation(user)
    row = await accept(
        connection, Credential(api_key_hash=key_hash(key)), acceptance, datetime.now(UTC)
    )
    assert row is None
    assert await written(connection, acceptance) == (0, 0)


async def test_work_made_for_another_user_is_not_written(connection: AsyncConnection) -> None:
    caller, other = uuid.uuid4(), uuid.uuid4()
    await connection.execute(insert(users).values([solo_user(caller), solo_user(other)]))
    acceptance = generation(other)
    row = await accept(connection, Credential(user_id=caller), acceptance, datetime.now(UTC))
    assert row["user_id"] == caller
    assert await written(connection, acceptance) == (0, 0)


async def test_a_keys_user_is_looked_up_once_and_its_refusal_still_writes_nothing(
    connection: AsyncConnection,
) -> None:
    user, key = uuid.uuid4(), "na_" + uuid.uuid4().hex
    await connection.execute(insert(users).values(**solo_user(user)))
    await connection.execute(
        insert(access_keys).values(
            id=uuid.uuid4(), user_id=user, name="live", prefix=key[:11], key_hash=key_hash(key)
        )
    )

    async def database() -> Any:
        return await driver_connection(connection)

    admissions = Admissions(database, database)
    credential = Credential(api_key_hash=key_hash(key))
    assert await admissions.known(credential) == Known(user, frozenset())
    await connection.execute(
        update(access_keys).where(access_keys.c.user_id == user).values(revoked_at=func.now())
    )
    assert await admissions.known(credential) == Known(
        user, frozenset()
    )  # remembered: a key never changes hands
    acceptance = generation(user)
    assert await admissions.admission(query(credential), acceptance) is None  # revoked: nobody
    assert await written(connection, acceptance) == (0, 0)
    assert await admissions.known(Credential(api_key_hash=key_hash("na_unknown"))) is None
    assert await admissions.known(Credential(user_id=user)) == Known(user)  # a token: its user
