"""Who is calling: a request's credential, resolved to its caller in one statement.

A credential is an API key, found by its hash with its scopes (its use recorded at most once a
minute, so a busy machine client does not turn every request into a write), or the user of a
verified access token. Every authenticated request runs this lookup, so it is constant SQL sent
through the driver: building, caching and executing it through SQLAlchemy's session cost
several times the database's own work for a one-row read. Every request re-reads the user, so
a deactivation takes effect at once.
"""

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg

from assistant_db import Statements
from gateway_service.sql import statement

KEY_PREFIX = "na_"


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    is_admin: bool
    plan_tier: str
    scopes: frozenset[str] | None = None  # None: a login session, every scope

    def allows(self, scope: str) -> bool:
        return self.scopes is None or not self.scopes or scope in self.scopes

    @classmethod
    def of(cls, row: asyncpg.Record) -> "Caller":
        scopes = row["scopes"]
        return cls(
            user_id=row["user_id"],
            is_admin=row["is_admin"],
            plan_tier=row["plan_tier"],
            scopes=None if scopes is None else frozenset(scopes),
        )


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class Credential:
    """What a request proves: an API key (by its hash) or a verified token's user."""

    api_key_hash: str | None = None
    user_id: uuid.UUID | None = None


IDENTIFY_BY_KEY = statement("identify_by_key")
IDENTIFY_BY_USER = statement("identify_by_user")


async def identify(database: Statements, credential: Credential) -> asyncpg.Record | None:
    """The caller's row (`is_active` included: the caller decides what an inactive one gets)."""
    if credential.api_key_hash is not None:
        row: asyncpg.Record | None = await database.fetchrow(
            IDENTIFY_BY_KEY, credential.api_key_hash
        )
    else:
        row = await database.fetchrow(IDENTIFY_BY_USER, credential.user_id)
    return row
