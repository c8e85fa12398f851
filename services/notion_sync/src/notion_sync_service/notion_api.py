"""The Notion client notion_sync uses: the official SDK, paced per token, with its own retries off,
and what each of Notion's refusals means for a save.

The SDK's retries are off so waits never stack: the pacer keeps calls within Notion's rate, and
a `429`/`529` that still comes sends the save to the retry topic for its `Retry-After`.
"""

from __future__ import annotations

from typing import Any

import httpx
from notion_client import APIErrorCode, AsyncClient
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from assistant_messaging.consuming.failures import PermanentFailure, RetryLater
from notion_sync_service.pacing import Pacer
from notion_sync_service.settings import NotionSyncSettings


class PacedClient(AsyncClient):
    """An `AsyncClient` whose every call waits for its token's slot, and is counted."""

    def __init__(self, token: str, pacer: Pacer, settings: NotionSyncSettings) -> None:
        super().__init__(
            auth=token,
            base_url=settings.api_base_url,
            timeout_ms=int(settings.api_timeout_s * 1000),
            retry=False,
        )
        self._token = token
        self._pacer = pacer
        self.calls = 0

    async def request(
        self,
        path: str,
        method: str,
        query: dict[Any, Any] | None = None,
        body: dict[Any, Any] | None = None,
        form_data: dict[Any, Any] | None = None,
        auth: str | dict[str, str] | None = None,
    ) -> Any:
        async with self._pacer.slot(self._token):
            self.calls += 1
            return await super().request(path, method, query, body, form_data, auth)


class SaveRefused(PermanentFailure):
    """Notion will not take this save as it stands; `reason` says what a person can do."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


REVOKED_REASON = (
    "Notion refused the integration token (revoked or mistyped): set a new one with "
    "PUT /v1/credentials/notion, then save again"
)


def translated(error: Exception, *, doing: str) -> Exception:
    """What a failed Notion call means for the save: wait and retry (`RetryLater`), or stop
    with a reason (`SaveRefused`). `doing` names the call, for the reason."""
    if isinstance(error, RequestTimeoutError | httpx.TransportError):
        return RetryLater(f"Notion did not answer while {doing}: {type(error).__name__}")
    if not isinstance(error, HTTPResponseError):
        return error
    if error.status == 429 or error.status >= 500:
        return RetryLater(f"Notion answered {error.status} while {doing}", _retry_after(error))
    if error.code == APIErrorCode.Unauthorized:
        return SaveRefused(REVOKED_REASON)
    if error.code == APIErrorCode.RestrictedResource:
        return SaveRefused(
            f"the integration may not do this ({doing}): give it the capabilities to read and "
            "insert content in Notion's integration settings"
        )
    if error.code == APIErrorCode.ConflictError:
        return RetryLater(f"Notion reported a conflict while {doing}")
    return SaveRefused(f"Notion refused {doing}: {error}")


def _retry_after(error: HTTPResponseError) -> float | None:
    value = error.headers.get("retry-after") if error.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the policy's delay will do
