"""PUT/DELETE /v1/credentials/{provider}, GET /v1/credentials: never the secret in clear.

The secret is encrypted before it is stored; responses show a masked form and a fingerprint;
the owning services learn of it through `credentials.updated`, which carries the ciphertext
only and is written through the outbox in the same transaction as the row.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy import Row

from assistant_runtime.credentials_cipher import CredentialCipher, fingerprint, masked
from assistant_runtime.outbound import OutboundRefused
from assistant_schemas.credentials import CredentialsUpdatedPayload, CredentialsUpdatedV1
from gateway_service.auth.callers import Caller
from gateway_service.credentials.repository import Credentials
from gateway_service.credentials.rules import problems
from gateway_service.http.dependencies import AccountCaller, EventOutbox, Session
from gateway_service.http.events import caller_event
from gateway_service.http.problems import Problem

router = APIRouter(prefix="/v1/credentials", tags=["credentials"])


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr = Field(max_length=500)
    base_url: HttpUrl | None = None


class CredentialOut(BaseModel):
    provider: str
    masked: str
    fingerprint: str
    base_url: str | None
    created_at: datetime
    updated_at: datetime


async def cipher(request: Request) -> CredentialCipher:
    found: CredentialCipher | None = request.app.state.cipher
    if found is None:
        raise Problem(
            503,
            "credentials-disabled",
            "Credentials are disabled",
            "the server has no CREDENTIALS_KEYS; an operator must set them",
        )
    return found


def view(row: Row[Any]) -> CredentialOut:
    return CredentialOut(**{name: getattr(row, name) for name in CredentialOut.model_fields})


def event(
    request: Request, caller: Caller, payload: CredentialsUpdatedPayload
) -> CredentialsUpdatedV1:
    return caller_event(CredentialsUpdatedV1, payload, caller, request)


@router.put("/{provider}", summary="Set the caller's credential for a provider or for Notion")
async def put_credential(
    provider: str,
    body: CredentialIn,
    caller: AccountCaller,
    session: Session,
    request: Request,
    box: Annotated[CredentialCipher, Depends(cipher)],
    events: EventOutbox,
) -> CredentialOut:
    secret = body.api_key.get_secret_value()
    base_url = str(body.base_url) if body.base_url else None
    broken = problems(provider, secret, base_url)
    if base_url and not broken:
        try:
            await request.app.state.outbound.check_url(base_url)
        except OutboundRefused as refused:
            broken = [("base_url", "address_not_allowed", str(refused))]
    if broken:
        raise Problem(
            422,
            "validation-error",
            "Invalid credential",
            "; ".join(f"{field}: {message}" for field, _, message in broken),
            errors=[{"field": f, "rule": r, "message": m} for f, r, m in broken],
        )
    ciphertext = box.encrypt(secret)
    row = await Credentials(session).put(
        caller.user_id,
        provider,
        ciphertext=ciphertext,
        fingerprint=fingerprint(secret),
        masked=masked(secret),
        base_url=base_url,
    )
    await events.add(
        session,
        event(
            request,
            caller,
            CredentialsUpdatedPayload(
                provider=provider,
                action="set",
                ciphertext=ciphertext,
                fingerprint=row.fingerprint,
                base_url=base_url,
            ),
        ),
    )
    await session.commit()
    return view(row)


@router.get("", summary="The caller's credentials, masked")
async def list_credentials(caller: AccountCaller, session: Session) -> list[CredentialOut]:
    return [view(row) for row in await Credentials(session).of_user(caller.user_id)]


@router.delete("/{provider}", status_code=204, summary="Delete the caller's credential")
async def delete_credential(
    provider: str,
    caller: AccountCaller,
    session: Session,
    request: Request,
    events: EventOutbox,
) -> Response:
    if not await Credentials(session).remove(caller.user_id, provider):
        raise Problem(
            404, "not-found", "No such credential", f"you have no credential for {provider}"
        )
    await events.add(
        session,
        event(request, caller, CredentialsUpdatedPayload(provider=provider, action="deleted")),
    )
    await session.commit()
    return Response(status_code=204)
