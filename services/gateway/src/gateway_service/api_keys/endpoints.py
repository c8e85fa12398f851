"""POST/GET /v1/api-keys, DELETE /v1/api-keys/{id}: the caller's own access keys."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row

from gateway_service.api_keys.repository import AccessKeys
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import AccountCaller, Session
from gateway_service.http.problems import Problem

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])

Scope = Literal["account", "generate", "documents", "search", "usage", "notion"]


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(
        default_factory=list,
        max_length=6,
        description="Empty: every scope (from a login session only). A key creating a key can "
        "grant only scopes it has itself.",
    )
    expires_at: AwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class Key(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(Key):
    key: str = Field(description="The whole key. Shown this once; store it now.")


def view(row: Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in Key.model_fields}


def refuse_escalation(caller: Caller, wanted: list[str]) -> None:
    """A key can make keys with no more power than its own: scopes it has, never none (every
    scope), which only a login session can grant."""
    if caller.scopes is None:
        return  # a login session: the account's owner
    if not wanted:
        raise Problem(
            403,
            "scope-escalation",
            "Scopes not grantable",
            "a key with every scope (empty scopes) can only be created from a login session; "
            "name the scopes the new key needs",
        )
    beyond = sorted(set(wanted) - caller.scopes) if caller.scopes else []
    if beyond:
        raise Problem(
            403,
            "scope-escalation",
            "Scopes not grantable",
            f"this key cannot grant scopes it lacks: {', '.join(beyond)}",
        )


@router.post("", status_code=201, summary="Create an access key (shown once)")
async def create_key(body: NewKey, caller: AccountCaller, session: Session) -> CreatedKey:
    refuse_escalation(caller, list(body.scopes))
    row, key = await AccessKeys(session).create(
        caller.user_id, name=body.name, scopes=list(body.scopes), expires_at=body.expires_at
    )
    await session.commit()
    return CreatedKey(**view(row), key=key)


@router.get("", summary="The caller's access keys (without their secrets)")
async def list_keys(caller: AccountCaller, session: Session) -> list[Key]:
    return [Key(**view(row)) for row in await AccessKeys(session).of_user(caller.user_id)]


@router.delete("/{key_id}", status_code=204, summary="Revoke one of the caller's access keys")
async def revoke_key(key_id: uuid.UUID, caller: AccountCaller, session: Session) -> Response:
    if not await AccessKeys(session).revoke(caller.user_id, key_id):
        raise Problem(404, "not-found", "No such key", f"you have no active access key {key_id}")
    await session.commit()
    return Response(status_code=204)
