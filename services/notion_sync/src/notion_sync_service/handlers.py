"""Events the notion_sync service consumes: Notion credentials, deleted accounts."""

from assistant_messaging.failures import PermanentFailure
from assistant_messaging.router import EventRouter, MessageContext
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.credentials import CredentialsUpdatedV1
from notion_sync_service import connections

router = EventRouter("notion_sync")


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
