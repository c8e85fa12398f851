"""Contract for the end of an account: every service removes or anonymises that user's data."""

from typing import Literal

from pydantic import Field

from assistant_schemas.envelope import Contract, Envelope


class AccountDeletedPayload(Contract):
    reason: Literal["user_request", "administrator"] = Field(
        description="Who asked for the deletion."
    )


class AccountDeletedV1(Envelope[AccountDeletedPayload]):
    """The envelope's user_id names the deleted account. Keyed by user id."""

    type: Literal["account.deleted"] = "account.deleted"
    version: Literal[1] = 1
