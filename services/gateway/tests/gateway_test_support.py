"""Helpers shared by the gateway's tests (fixtures live in conftest.py)."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from assistant_db import Statements
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas.catalog import CatalogResultPayload, ModelInfo, ProviderInfo
from gateway_service.admission.gate import Admission, Gate, Query, found
from gateway_service.auth.callers import Credential
from gateway_service.models import idempotency_keys, requests

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "Correct-Horse-42"
CREDENTIALS_KEY = CredentialCipher.generate_key()

Register = Callable[..., Awaitable[dict[str, Any]]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def solo_user(user_id: uuid.UUID) -> dict[str, Any]:
    """A `users` row for tests that need an account but no login."""
    name = f"user-{user_id.hex[:12]}"
    return {
        "id": user_id,
        "email": f"{name}@example.org",
        "username": name,
        "password_hash": "not-a-hash",
    }


async def admit_once(
    gate: Gate,
    database: Statements,
    credential: Credential,
    *,
    family: str,
    scope: str,
    check_budget: bool,
    now: datetime | None = None,
) -> Admission | None:
    """One request through admission, alone in its statement; None when nobody is calling."""
    query = Query(credential, family, scope, check_budget)
    [(row, at)] = await found(database, [(query, None)], now or datetime.now(UTC))
    return await gate.decided(database, query, row, at)


async def admit_generation(
    gate: Gate, database: Statements, user_id: uuid.UUID, now: datetime | None = None
) -> Admission | None:
    """A generation request of a token's user through admission, alone in its statement."""
    return await admit_once(
        gate,
        database,
        Credential(user_id=user_id),
        family="generation",
        scope="generate",
        check_budget=True,
        now=now,
    )


def catalogue(*, version: int, model: str) -> CatalogResultPayload:
    """A catalogue of one provider `p` (mock) serving `model`, as announced at `version`."""
    return CatalogResultPayload(
        providers=[ProviderInfo(name="p", label="P", api_style="mock", requires_key=False)],
        models=[
            ModelInfo(
                provider="p",
                model=model,
                context_window=1000,
                max_output_tokens=100,
                input_price=1,
                output_price=2,
            )
        ],
        version=version,
    )


async def work_of(connection: AsyncConnection, user_id: uuid.UUID) -> tuple[int, int, int]:
    """The user's status rows, idempotency records and outbox events (those that name them)."""
    statuses = await connection.scalar(
        select(func.count()).select_from(requests).where(requests.c.user_id == user_id)
    )
    claims = await connection.scalar(
        select(func.count())
        .select_from(idempotency_keys)
        .where(idempotency_keys.c.user_id == user_id)
    )
    events = await connection.scalar(
        text(
            "SELECT count(*) FROM gateway.outbox"
            " WHERE position(CAST(:user AS text) IN convert_from(payload, 'UTF8')) > 0"
        ),
        {"user": str(user_id)},
    )
    return statuses or 0, claims or 0, events or 0
