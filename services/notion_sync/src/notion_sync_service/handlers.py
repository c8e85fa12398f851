"""Everything the notion_sync service receives: pages to write (jobs, run by `saving`),
queries about a user's Notion connection, and the events it keeps in step with: Notion
credentials, deleted accounts."""

from collections.abc import Mapping

from assistant_messaging.consuming.failures import PermanentFailure
from assistant_messaging.consuming.router import EventRouter, MessageContext
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.credentials import CredentialsUpdatedV1
from assistant_schemas.notion import NotionConnectionQueryV1, NotionPageRequestedV1
from notion_sync_service import connections
from notion_sync_service.queries import ConnectionQueries
from notion_sync_service.saving import PageSaver

router = EventRouter("notion_sync")
router.answers(NotionConnectionQueryV1, ConnectionQueries)


@router.job(NotionPageRequestedV1)
async def write_page(
    event: NotionPageRequestedV1, headers: Mapping[str, str], saver: PageSaver
) -> None:
    await saver.handle(event, headers)


@router.abandons(NotionPageRequestedV1)
async def page_abandoned(
    event: NotionPageRequestedV1, headers: Mapping[str, str], why: str, saver: PageSaver
) -> None:
    await saver.abandon(event, headers, why)


@router.handles(CredentialsUpdatedV1)
async def credentials_updated(event: CredentialsUpdatedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("credentials.updated names no user_id")
    p = event.payload
    if p.provider != "notion":
        return  # a provider key: generation's business
    if p.action == "deleted" or p.ciphertext is None:
        await connections.remove(context.session, event.user_id)
    else:
        await connections.put(context.session, event.user_id, p.ciphertext, p.fingerprint)


@router.handles(AccountDeletedV1)
async def account_deleted(event: AccountDeletedV1, context: MessageContext) -> None:
    if event.user_id is None:
        raise PermanentFailure("account.deleted names no user_id")
    await connections.remove(context.session, event.user_id)
