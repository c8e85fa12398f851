"""Queries notion_sync answers over request/reply: the state of a user's connection, checked
with a real call to Notion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from notion_client import APIErrorCode, APIResponseError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant_messaging.request_reply.replies import answer, refusal
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas import Envelope
from assistant_schemas.notion import (
    NotionConnectionQueryV1,
    NotionConnectionResultPayload,
    NotionConnectionResultV1,
)
from notion_sync_service import connections
from notion_sync_service.notion_api import PacedClient
from notion_sync_service.pacing import Pacer
from notion_sync_service.settings import NotionSyncSettings


class ConnectionQueries:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: CredentialCipher | None,
        settings: NotionSyncSettings,
        pacer: Pacer,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._settings = settings
        self._pacer = pacer

    async def __call__(self, query: NotionConnectionQueryV1) -> Envelope[Any]:
        if query.user_id is None:
            return refusal(query, 400, "the query names no user", "notion_sync")
        async with self._sessions() as session:
            found = await connections.find(session, query.user_id)
        if found is None:
            return self._result(
                query,
                "not_connected",
                reason="no Notion integration token: PUT /v1/credentials/notion",
            )
        ciphertext, fingerprint = found
        if self._cipher is None:
            return self._result(
                query, "unreachable", fingerprint, reason="CREDENTIALS_KEYS is not set here"
            )
        client = PacedClient(self._cipher.decrypt(ciphertext), self._pacer, self._settings)
        try:
            bot: Any = await client.users.me()
        except APIResponseError as error:
            if error.code == APIErrorCode.Unauthorized:
                reason = "Notion refused the token (revoked or mistyped): set a new one"
                return self._result(query, "invalid", fingerprint, reason=reason)
            return self._result(query, "unreachable", fingerprint, reason=f"Notion: {error}")
        except httpx.HTTPError as error:
            reason = f"Notion did not answer: {type(error).__name__}"
            return self._result(query, "unreachable", fingerprint, reason=reason)
        finally:
            await client.aclose()
        return self._result(query, "connected", fingerprint, bot_name=bot.get("name"))

    def _result(
        self,
        query: NotionConnectionQueryV1,
        status: Any,
        fingerprint: str | None = None,
        **details: str | None,
    ) -> Envelope[Any]:
        payload = NotionConnectionResultPayload(
            status=status, fingerprint=fingerprint, checked_at=datetime.now(UTC), **details
        )
        return answer(query, NotionConnectionResultV1, payload, "notion_sync")
