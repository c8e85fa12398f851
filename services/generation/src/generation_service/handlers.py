"""Events the generation service consumes (besides the requests it answers, see `worker`)."""

from sqlalchemy import delete

from assistant_messaging.failures import PermanentFailure
from assistant_messaging.router import EventRouter, MessageContext
from assistant_schemas.accounts import AccountDeletedV1
from assistant_schemas.credentials import CredentialsUpdatedV1
from generation_service import credentials
from generation_service.conversations import Conversations
from generation_service.models import content_history

router = EventRouter("generation")


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
