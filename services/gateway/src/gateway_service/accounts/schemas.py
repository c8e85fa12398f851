"""Request and response bodies of the accounts and auth endpoints."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from gateway_service.accounts.passwords import MAX_LENGTH, MIN_LENGTH, weakness

USERNAME = r"^[A-Za-z0-9_.-]{3,50}$"  # 3 to 50 letters, digits, `_`, `.` or `-`


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


PASSWORD_RULE = (
    f"{MIN_LENGTH} to {MAX_LENGTH} characters mixing at least three of lower case, upper "
    "case, digits and symbols, without the username or the email's name."
)


class RegisterRequest(Body):
    email: EmailStr
    username: str = Field(pattern=USERNAME, description="Unique in any case.")
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description=PASSWORD_RULE)
    full_name: str | None = Field(default=None, max_length=200)

    @field_validator("password")
    @classmethod
    def strong_enough(cls, password: str, info: ValidationInfo) -> str:
        reason = weakness(
            password, username=info.data.get("username", ""), email=info.data.get("email", "")
        )
        if reason:
            raise ValueError(reason)
        return password


class LoginRequest(Body):
    login: str = Field(min_length=1, max_length=255, description="Email or username.")
    password: str = Field(min_length=1, max_length=1000)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=500)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


class PasswordChange(Body):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(
        min_length=MIN_LENGTH, max_length=MAX_LENGTH, description=PASSWORD_RULE
    )


class AccountDeletion(Body):
    password: str = Field(min_length=1, max_length=1000, description="Confirms the deletion.")


class Settings(BaseModel):
    default_provider: str | None = None
    default_model: str | None = None
    notion_config: dict[str, Any] = Field(default_factory=dict)
    ui_preferences: dict[str, Any] = Field(default_factory=dict)


class SettingsPatch(Body):
    default_provider: str | None = Field(default=None, max_length=100)
    default_model: str | None = Field(default=None, max_length=200)
    notion_config: dict[str, Any] | None = None
    ui_preferences: dict[str, Any] | None = None


class ProfilePatch(Body):
    full_name: str | None = Field(default=None, max_length=200)
    username: str | None = Field(default=None, pattern=USERNAME)
    settings: SettingsPatch | None = None


class User(BaseModel):
    id: uuid.UUID
    email: str
    username: str
    full_name: str | None
    plan_tier: Literal["solo", "team", "enterprise"]
    is_admin: bool
    is_active: bool
    created_at: datetime
    settings: Settings
