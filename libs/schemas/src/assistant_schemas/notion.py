"""Contracts of the Notion domain: saving content as a page, and the outcome."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from assistant_schemas.common import Identifier
from assistant_schemas.envelope import Contract, Envelope


def save_request_id(source_request_id: uuid.UUID) -> uuid.UUID:
    """The request id of the page saved for a generation asked with `save_to_notion`: derived,
    so the gateway (which tracks its status) and generation (which asks for it) agree."""
    return uuid.uuid5(source_request_id, "notion.page")


class NotionPageRequestedPayload(Contract):
    request_id: uuid.UUID = Field(description="One page is created per request id, ever.")
    source_request_id: uuid.UUID | None = Field(
        default=None, description="The generation whose content is saved, if any."
    )
    title: str | None = Field(default=None, max_length=2000)
    markdown: str = Field(max_length=5_000_000)
    parent_id: Identifier | None = None
    parent_type: Literal["page", "database"] | None = None
    tags: list[str] = Field(default_factory=list, max_length=100)
    provider: str | None = None
    model: str | None = None


class NotionPageSyncedPayload(Contract):
    request_id: uuid.UUID
    source_request_id: uuid.UUID | None = None
    page_id: Identifier
    url: str


class NotionPageFailedPayload(Contract):
    request_id: uuid.UUID
    source_request_id: uuid.UUID | None = None
    reason: str
    retryable: bool


class NotionPageRequestedV1(Envelope[NotionPageRequestedPayload]):
    type: Literal["notion.page.requested"] = "notion.page.requested"
    version: Literal[1] = 1


class NotionPageSyncedV1(Envelope[NotionPageSyncedPayload]):
    type: Literal["notion.page.synced"] = "notion.page.synced"
    version: Literal[1] = 1


class NotionPageFailedV1(Envelope[NotionPageFailedPayload]):
    type: Literal["notion.page.failed"] = "notion.page.failed"
    version: Literal[1] = 1


class NotionConnectionQueryPayload(Contract):
    """Check the caller's Notion connection with a real API call (request/reply)."""

    action: Literal["status"] = "status"


class NotionConnectionResultPayload(Contract):
    status: Literal["connected", "invalid", "not_connected", "unreachable"]
    fingerprint: str | None = Field(default=None, description="Of the token, never the token.")
    bot_name: str | None = Field(default=None, description="The integration, as Notion names it.")
    reason: str | None = Field(default=None, description="What to do when not connected.")
    checked_at: datetime


class NotionConnectionQueryV1(Envelope[NotionConnectionQueryPayload]):
    type: Literal["notion.connection.query"] = "notion.connection.query"
    version: Literal[1] = 1


class NotionConnectionResultV1(Envelope[NotionConnectionResultPayload]):
    type: Literal["notion.connection.result"] = "notion.connection.result"
    version: Literal[1] = 1
