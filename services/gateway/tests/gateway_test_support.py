"""Helpers shared by the gateway's tests (fixtures live in conftest.py)."""

from collections.abc import Awaitable, Callable
from typing import Any

from assistant_runtime.credentials_cipher import CredentialCipher

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "Correct-Horse-42"
CREDENTIALS_KEY = CredentialCipher.generate_key()

Register = Callable[..., Awaitable[dict[str, Any]]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
