"""`Idempotency-Key` on POSTs that create work.

The first request with a key claims it (a row inserted in the request's own transaction; a
concurrent request with the same key waits on that row's lock). Its response is stored with its
work, atomically. Later requests with the same key and the same body get the stored response
again (`Idempotent-Replayed: true`); with another body they get 409. Keys are the caller's own
and are kept for 24 hours.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway_service.http.problems import Problem
from gateway_service.models import idempotency_keys

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    """A key claimed by this request (`key` None: the client sent no key)."""

    user_id: uuid.UUID
    key: str | None


async def claim_or_replay(
    session: AsyncSession, user_id: uuid.UUID, request: Request, content: bytes | None = None
) -> Claim | JSONResponse:
    """A claim on the request's `Idempotency-Key`, or the answer stored under it. `content` is
    what was sent when the body itself is gone (a multipart form, parsed into its parts)."""
    key = request.headers.get(HEADER)
    if key is None:
        return Claim(user_id, None)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise Problem(
            422,
            "validation-error",
            "Invalid request",
            f"{HEADER}: 1 to {MAX_KEY_LENGTH} characters",
            errors=[
                {"field": HEADER, "rule": "length", "message": f"1 to {MAX_KEY_LENGTH} characters"}
            ],
        )
    fingerprint = hashlib.sha256(
        b"\n".join(
            [
                request.method.encode(),
                request.url.path.encode(),
                await request.body() if content is None else content,
            ]
        )
    ).hexdigest()
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
        await session.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.created_at < datetime.now(UTC) - RETENTION
            )
        )
    claimed = await session.scalar(
        insert(idempotency_keys)
        .values(user_id=user_id, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(idempotency_keys.c.key)
    )
    if claimed is not None:
        return Claim(user_id, key)
    stored = (
        await session.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
            )
        )
    ).one()
    if stored.fingerprint != fingerprint:
        raise Problem(
            409,
            "idempotency-key-reused",
            "Idempotency key reused",
            f"this {HEADER} was used with another request; use a new key",
        )
    if stored.status_code is None:
        raise Problem(
            409,
            "idempotency-key-in-flight",
            "Request in flight",
            f"a request with this {HEADER} is still being processed",
        )
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


async def remember(session: AsyncSession, claim: Claim, status_code: int, body: Any) -> None:
    """Stores the response with the work it describes (call before committing)."""
    if claim.key is None:
        return
    await session.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.user_id == claim.user_id, idempotency_keys.c.key == claim.key)
        .values(status_code=status_code, body=body)
    )
