"""Answering `notion.page.requested`: exactly one page per request, written within Notion's
limits, resumable at any point.

A save holds its request's lock for its whole run and records each step (`unit_of_work`, one
transaction each) before the next Notion call: the create about to be sent, the page once
created, each append done. The page is created with the document's first append as its
children when they fit in the same request (a short document is then one call, not two, of
the three a second Notion allows). Resuming never creates a second page or appends a block twice:
- a page created by a writer that died before recording it is found again (Notion's search,
  same title and parent, created by this integration since the create was first sent, owned by
  no other request) and adopted; it holds the first append or nothing (a create is whole or
  not at all), which its child count tells;
- an append that may have landed unrecorded is checked against its parent's child count.

Notion's `429`/`529`/`5xx` and timeouts end the attempt with `RetryLater` (the job consumer puts
the request on the retry topic, due after `Retry-After`); after the last attempt, and on any
refusal that retrying cannot fix, the save fails with a reason a person can act on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from notion_client import APIErrorCode
from notion_client.errors import APIResponseError, HTTPResponseError
from pydantic import BaseModel

from assistant_messaging.consuming.failures import PermanentFailure, RetryLater
from assistant_messaging.kafka import headers as h
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas import new_event
from assistant_schemas.envelope import EventT
from assistant_schemas.notion import (
    NotionPageFailedPayload,
    NotionPageFailedV1,
    NotionPageRequestedV1,
    NotionPageSyncedPayload,
    NotionPageSyncedV1,
)
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from notion_sync_service import metrics, target
from notion_sync_service.markdown.blocks import to_blocks
from notion_sync_service.markdown.plan import Append, fits_beside, plan
from notion_sync_service.notion_api import PacedClient, SaveRefused, translated
from notion_sync_service.pacing import Pacer
from notion_sync_service.pages import PageRecord
from notion_sync_service.settings import NotionSyncSettings
from notion_sync_service.unit_of_work import PageTaken, SaveStep, SaveUnit, SaveUnits
from notion_sync_service.writer import DocumentWriter

log = structlog.get_logger(__name__)

NO_PARENT = (
    "no parent to save under: name a page or database (save_to_notion.parent_id), or set "
    "settings.notion_config.default_parent_id with PATCH /v1/me"
)
NOT_CONNECTED = "Notion is not connected: PUT /v1/credentials/notion with an integration token"
UNREADABLE_CREDENTIAL = (
    "the stored Notion token cannot be decrypted with this service's CREDENTIALS_KEYS: "
    "set it again with PUT /v1/credentials/notion"
)
CLOCK_SLACK = timedelta(minutes=1)  # Notion stamps created_time to the minute


@dataclass(frozen=True)
class Document:
    appends: list[Append]
    title: str


class PageSaver:
    def __init__(
        self,
        *,
        settings: NotionSyncSettings,
        units: SaveUnits,
        cipher: CredentialCipher | None,
        pacer: Pacer,
    ) -> None:
        self.settings = settings
        self.units = units
        self.cipher = cipher
        self.pacer = pacer

    async def handle(self, event: NotionPageRequestedV1, headers: Mapping[str, str]) -> None:
        if event.user_id is None:
            raise PermanentFailure("notion.page.requested names no user_id")
        attempt = int(headers.get(h.ATTEMPT, "0")) + 1
        request_id = event.payload.request_id
        with structlog.contextvars.bound_contextvars(
            request_id=str(request_id),
            user_id=str(event.user_id),
            correlation_id=event.correlation_id,
        ):
            async with self.units.open() as unit:
                if not await unit.lock(request_id):
                    raise RetryLater("another instance is writing this page", after_s=5.0)
                try:
                    await _Save(self, unit, event, attempt).run()
                finally:
                    await unit.unlock(request_id)

    async def abandon(
        self, event: NotionPageRequestedV1, _headers: Mapping[str, str], why: str
    ) -> None:
        """A save set aside for good (dead-lettered) ends as failed, with a reason, instead of
        staying pending; unless it finished meanwhile."""
        if event.user_id is None:
            return
        async with self.units.open() as unit:
            async with unit.step() as step:
                record = await step.find(event.payload.request_id)
            if record is None or record.status == "writing":
                save = _Save(self, unit, event, attempt=0)
                save.calls_before = record.api_calls if record else 0  # kept, not reset
                reason = f"the save failed on every attempt and was set aside ({why})"
                await save.fail(reason, retryable=True)


class _Save:
    """One attempt at one request."""

    def __init__(
        self,
        saver: PageSaver,
        unit: SaveUnit,
        event: NotionPageRequestedV1,
        attempt: int,
    ) -> None:
        self.saver = saver
        self.unit = unit
        self.event = event
        self.payload = event.payload
        self.request_id = event.payload.request_id
        self.last_attempt = attempt >= saver.settings.retry_max_attempts
        self.calls_before = 0
        self.client: PacedClient | None = None

    @property
    def calls(self) -> int:
        return self.calls_before + (self.client.calls if self.client else 0)

    async def run(self) -> None:
        document = await asyncio.to_thread(self._document)
        assert self.event.user_id is not None
        async with self.unit.step() as step:
            record = await step.open_for_writing(
                request_id=self.request_id,
                user_id=self.event.user_id,
                source_request_id=self.payload.source_request_id,
                title=document.title,
                parent_id=self.payload.parent_id or "",
            )
            ciphertext = await step.token_ciphertext(self.event.user_id)
        if record.status != "writing":
            return  # answered before: a duplicate delivery
        self.calls_before = record.api_calls
        if not record.parent_id:
            return await self.fail(NO_PARENT, retryable=False)
        if ciphertext is None:
            return await self.fail(NOT_CONNECTED, retryable=False)
        if self.saver.cipher is None:
            return await self.fail("CREDENTIALS_KEYS is not set on notion_sync", retryable=True)
        try:
            token = self.saver.cipher.decrypt(ciphertext)
        except ValueError:
            return await self.fail(UNREADABLE_CREDENTIAL, retryable=False)
        self.client = PacedClient(token, self.saver.pacer, self.saver.settings)
        try:
            await self._write(record, document)
        except SaveRefused as refused:
            await self.fail(refused.reason, retryable=refused.retryable)
        except Exception as error:
            await self._pause_or_fail(error)
        finally:
            await self.client.aclose()

    def _document(self) -> Document:
        blocks = to_blocks(self.payload.markdown)
        return Document(plan(blocks), target.title_of(self.payload, blocks))

    async def _write(self, record: PageRecord, document: Document) -> None:
        assert self.client is not None
        page_id, done, in_doubt = record.page_id, record.appended, record.in_doubt
        if page_id is None:
            page_id, done, in_doubt = await self._create(record, document.appends)
        writer = DocumentWriter(self.client, page_id)
        if in_doubt:
            done = await writer.landed(document.appends, done)

        async def checkpoint(appended: int) -> None:
            async with self.unit.step() as step:
                await step.appended(self.request_id, appended, self.calls)

        await writer.write(document.appends, done, checkpoint)
        await self._succeed()

    async def _create(self, record: PageRecord, appends: list[Append]) -> tuple[str, int, bool]:
        """The page, how many appends it holds, and whether that is in doubt (a page adopted
        from an earlier attempt: its child count tells)."""
        assert self.client is not None
        if record.creating_since is not None:
            orphan = await self._orphan(record, record.creating_since)
            if orphan is not None:
                return await self._record_page(orphan, appended=0), 0, True
        page_target = await target.resolve(
            self.client, self.payload, record.parent_id, record.title
        )
        fields = {"parent": page_target.parent, "properties": page_target.properties}
        first = appends[0] if appends and fits_beside(appends[0], fields) else None
        carried = 0 if first is None else 1
        async with self.unit.step() as step:
            await step.creating(self.request_id)
        try:
            page: Any = await self.client.pages.create(
                **fields, **({} if first is None else {"children": first.blocks})
            )
        except APIResponseError as error:
            if error.code == APIErrorCode.ObjectNotFound:
                kind = self.payload.parent_type or "page"
                raise target.not_shared(kind, record.parent_id) from error
            raise
        return await self._record_page(page, appended=carried), carried, False

    async def _orphan(self, record: PageRecord, since: datetime) -> dict[str, Any] | None:
        """The empty page an earlier attempt created but did not live to record, if any."""
        assert self.client is not None
        me: Any = await self.client.users.me()
        found: Any = await self.client.search(
            query=record.title, filter={"property": "object", "value": "page"}
        )
        candidates = [
            page
            for page in found["results"]
            if _title(page) == record.title
            and record.parent_id in _parent_ids(page)
            and page.get("created_by", {}).get("id") == me["id"]
            and datetime.fromisoformat(page["created_time"]) >= since - CLOCK_SLACK
        ]
        async with self.unit.step() as step:
            owned = await step.mapped([page["id"] for page in candidates])
        free = sorted(
            (page for page in candidates if page["id"] not in owned),
            key=lambda page: page["created_time"],
        )
        if free:
            log.info("adopting a page an earlier attempt created", page_id=free[0]["id"])
        return free[0] if free else None

    async def _record_page(self, page: dict[str, Any], *, appended: int) -> str:
        try:
            async with self.unit.step() as step:
                await step.created(self.request_id, page["id"], page["url"], appended, self.calls)
        except PageTaken as error:  # another save adopted it in the meantime
            raise RetryLater("the page found was taken by another save", after_s=1.0) from error
        page_id: str = page["id"]
        return page_id

    async def _succeed(self) -> None:
        async with self.unit.step() as step:
            await step.synced(self.request_id, self.calls)
            record = await step.find(self.request_id)
            assert record is not None
            assert record.page_id is not None
            assert record.url is not None
            synced = NotionPageSyncedPayload(
                request_id=self.request_id,
                source_request_id=self.payload.source_request_id,
                page_id=record.page_id,
                url=record.url,
            )
            await step.publish(self._follow_up(NotionPageSyncedV1, synced))
            await self._report_usage(step)
        metrics.SAVES.labels("synced").inc()
        log.info("notion page synced", page_id=record.page_id, api_calls=self.calls)

    async def fail(self, reason: str, *, retryable: bool) -> None:
        failed = NotionPageFailedPayload(
            request_id=self.request_id,
            source_request_id=self.payload.source_request_id,
            reason=reason,
            retryable=retryable,
        )
        async with self.unit.step() as step:
            await step.failed(self.request_id, reason, retryable=retryable, api_calls=self.calls)
            await step.publish(self._follow_up(NotionPageFailedV1, failed))
            await self._report_usage(step)
        metrics.SAVES.labels("failed").inc()
        log.warning("notion save failed", reason=reason, retryable=retryable)

    async def _pause_or_fail(self, error: Exception) -> None:
        outcome = translated(error, doing="writing the page")
        if isinstance(outcome, SaveRefused):
            return await self.fail(outcome.reason, retryable=outcome.retryable)
        if not isinstance(outcome, RetryLater):
            raise error  # not Notion's doing: the job consumer routes it to the retry topic
        if self.last_attempt:
            reason = f"{outcome}; gave up after {self.saver.settings.retry_max_attempts} tries"
            return await self.fail(reason + ": save again later", retryable=True)
        # An answer from Notion means the call did not land; no answer leaves it in doubt.
        async with self.unit.step() as step:
            await step.paused(
                self.request_id,
                in_doubt=not isinstance(error, HTTPResponseError),
                api_calls=self.calls,
            )
        metrics.SAVES.labels("retried").inc()
        raise outcome from error

    async def _report_usage(self, step: SaveStep) -> None:
        """`usage.recorded` for the Notion calls not reported yet (an earlier failed attempt
        of a re-synced save reported its own)."""
        unreported = await step.take_unreported_calls(self.request_id)
        if unreported is None:
            return
        calls, index = unreported
        usage = UsageRecordedPayload(
            request_id=self.request_id,
            usage_type="notion_api",
            call_index=index,
            provider="notion",
            model="api",
            api_calls=calls,
        )
        await step.publish(self._follow_up(UsageRecordedV1, usage))
        metrics.API_CALLS.inc(calls)

    def _follow_up(self, contract: type[EventT], payload: BaseModel) -> EventT:
        return new_event(
            contract,
            payload,
            correlation_id=self.event.correlation_id,
            producer="notion_sync",
            user_id=self.event.user_id,
        )


def _title(page: dict[str, Any]) -> str:
    """A page's title, from its title property's plain text."""
    for prop in page.get("properties", {}).values():
        if prop.get("type") == "title":
            return "".join(item.get("plain_text", "") for item in prop.get("title", []))
    return ""


def _parent_ids(page: dict[str, Any]) -> set[str]:
    parent = page.get("parent", {})
    return {parent[k] for k in ("page_id", "database_id", "data_source_id") if parent.get(k)}
