"""Who is calling: a request's credential, resolved to its caller in one statement.

A credential is an API key, found by its hash with its scopes (its use recorded at most once a
minute, so a busy machine client does not turn every request into a write), or the user of a
verified access token. Every authenticated request runs this lookup, so it is constant SQL sent
through the driver: building, caching and executing it through SQLAlchemy's session cost
several times the database's own work for a one-row read. Every request re-reads the user, so
a deactivation takes effect at once.
"""

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from assistant_db import Statements
from gateway_service.models import SCHEMA

KEY_PREFIX = "na_"

# Of an API key `k`: whether it still admits anyone, and whether its last use is worth recording.
# Judged at the statement's own time: now() is when its transaction began, which can be long
# before the check on a busy machine or inside a caller's transaction.
LIVE_KEY = "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > statement_timestamp())"
STALE_USE = "k.last_used_at IS NULL OR k.last_used_at < statement_timestamp() - interval '1 minute'"

# The caller CTE: one row (user_id, is_active, is_admin, plan_tier, scopes, key_id, stale_use)
# or none. `scopes` is NULL for an access token: a login session may do everything.
CALLER_BY_KEY = f"""
    caller AS (
        SELECT u.id AS user_id, u.is_active, u.is_admin, u.plan_tier, k.scopes, k.id AS key_id,
               {STALE_USE} AS stale_use
        FROM {SCHEMA}.access_keys k JOIN {SCHEMA}.users u ON u.id = k.user_id
        WHERE k.key_hash = $1 AND {LIVE_KEY}
    ),
    used AS (
        UPDATE {SCHEMA}.access_keys SET last_used_at = statement_timestamp()
        WHERE id = (SELECT key_id FROM caller WHERE stale_use)
    )"""  # noqa: S608 - the schema is a constant identifier; values are parameters
CALLER_BY_USER = f"""
    caller AS (
        SELECT u.id AS user_id, u.is_active, u.is_admin, u.plan_tier, NULL::text[] AS scopes
        FROM {SCHEMA}.users u WHERE u.id = $1
    )"""  # noqa: S608 - as above
CALLER_COLUMNS = "c.user_id, c.is_active, c.is_admin, c.plan_tier, c.scopes"


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

    def statement(self, rest: str) -> tuple[str, Any]:
        """`WITH caller AS (…), <rest>` for this kind of credential, and its `$1`."""
        if self.api_key_hash is not None:
            return _with_caller(CALLER_BY_KEY, rest), self.api_key_hash
        return _with_caller(CALLER_BY_USER, rest), self.user_id


@functools.cache
def _with_caller(caller: str, rest: str) -> str:
    """Assembled once per kind of statement, not per request."""
    return f"WITH {caller}{rest}"


IDENTIFY = f" SELECT {CALLER_COLUMNS} FROM caller c"  # noqa: S608 - constant columns


async def identify(database: Statements, credential: Credential) -> asyncpg.Record | None:
    """The caller's row (`is_active` included: the caller decides what an inactive one gets)."""
    statement, first = credential.statement(IDENTIFY)
    row: asyncpg.Record | None = await database.fetchrow(statement, first)
    return row
