"""Everything the generation service receives: generation requests (jobs, run by `worker`),
cancellations (broadcast to every instance), queries about conversations and the catalogue,
and the events it keeps in step with: credentials, deleted accounts, saves of finished content
to Notion and where they landed."""

from collections.abc import Mapping

import structlog
from sqlalchemy import delete

from assistant_messaging.consuming.failures import PermanentFailure
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.catalog import CatalogQueryV1
from assistant_schemas.credentials import CredentialsUpdatedV1
from assistant_schemas.generation import (
    GenerationCancelRequestedV1,
    GenerationRequestedV1,
    GenerationSaveRequestedV1,
)
from assistant_schemas.notion import (
    NotionPageFailedPayload,
    NotionPageFailedV1,
    NotionPageSyncedV1,
)
from assistant_schemas.queries import ConversationsQueryV1, HistoryQueryV1
from generation_service import credentials, notion_saves
from generation_service.conversations import Conversations
from generation_service.models import content_history
from generation_service.queries import CatalogQueries, ConversationQueries, HistoryQueries
from generation_service.worker import GenerationWorker

log = structlog.get_logger(__name__)

router = EventRouter("generation")
router.answers(ConversationsQueryV1, ConversationQueries)
router.answers(HistoryQueryV1, HistoryQueries)
router.answers(CatalogQueryV1, CatalogQueries)


@router.job(GenerationRequestedV1)
async def generate(
    event: GenerationRequestedV1, headers: Mapping[str, str], worker: GenerationWorker
) -> None:
    await worker.handle(event, headers)


@router.abandons(GenerationRequestedV1)
async def generation_abandoned(
    event: GenerationRequestedV1, headers: Mapping[str, str], why: str, worker: GenerationWorker
) -> None:
    await worker.abandon(event, headers, why)


@router.hears(GenerationCancelRequestedV1)
async def cancel_requested(event: GenerationCancelRequestedV1, worker: GenerationWorker) -> None:
    """The client went away: whichever instance runs the request stops its provider call."""
    if worker.cancel(event.payload.request_id, event.user_id):
        log.info("generation cancelled", request_id=str(event.payload.request_id))


@router.handles(CredentialsUpdatedV1)
async def credentials_updated(event: CredentialsUpdatedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("credentials.updated names no user_id")
    p = event.payload
    if p.provider == "notion":
        return  # notion_sync's business
    if p.action == "deleted" or p.ciphertext is None:
        await credentials.remove(context.session, event.user_id, p.provider)
        return
    await credentials.put(
        context.session, event.user_id, p.provider, p.ciphertext, p.base_url, p.fingerprint
    )


@router.handles(AccountDeletedV1)
async def account_deleted(event: AccountDeletedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("account.deleted names no user_id")
    await Conversations(context.session, event.user_id).delete_all()
    await context.session.execute(
        delete(content_history).where(content_history.c.user_id == event.user_id)
    )
    await credentials.remove(context.session, event.user_id)


@router.handles(GenerationSaveRequestedV1)
async def save_requested(event: GenerationSaveRequestedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("generation.save_requested names no user_id")
    p = event.payload
    stored = await notion_saves.stored_content(context.session, event.user_id, p.source_request_id)
    if stored is None:
        failed = NotionPageFailedPayload(
            request_id=p.request_id,
            source_request_id=p.source_request_id,
            reason=f"generation {p.source_request_id} has no stored content to save",
            retryable=False,
        )
        await context.outbox.add(
            context.session,
            new_event(
                NotionPageFailedV1,
                failed,
                correlation_id=event.correlation_id,
                producer="generation",
                user_id=event.user_id,
            ),
        )
        return
    prompt, content, provider, model = stored
    await context.outbox.add(
        context.session,
        notion_saves.page_request(
            user_id=event.user_id,
            correlation_id=event.correlation_id,
            save_id=p.request_id,
            source_request_id=p.source_request_id,
            target=p.target,
            prompt=prompt,
            content=content,
            provider=provider,
            model=model,
        ),
    )


@router.handles(NotionPageSyncedV1)
async def page_synced(event: NotionPageSyncedV1, context: MessageContext) -> None:
    p = event.payload
    if event.user_id is None or p.source_request_id is None:
        return  # not a save of generated content
    await notion_saves.record_page(
        context.session, event.user_id, p.source_request_id, p.page_id, p.url
    )
