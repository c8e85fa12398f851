"""Encryption of provider and Notion credentials at rest and on Kafka (Fernet, rotatable).

`CREDENTIALS_KEYS` holds comma-separated Fernet keys, newest first: the first encrypts, all of
them decrypt (MultiFernet), so a key is rotated by prepending a new one and re-encrypting. The
gateway encrypts; generation and notion_sync decrypt what arrives in `credentials.updated`.
"""

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialCipher:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ValueError("CREDENTIALS_KEYS names no key")
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except ValueError:
            raise ValueError(
                "CREDENTIALS_KEYS must be Fernet keys (32 url-safe base64 bytes), comma-separated"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ValueError("ciphertext was not made with any of CREDENTIALS_KEYS") from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypts with the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()


def fingerprint(secret: str) -> str:
    """Identifies a secret without revealing it: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def masked(secret: str) -> str:
    """`sk-a…wxyz`: enough to recognise a key, never enough to use it."""
    if len(secret) <= 12:
        return "…" + secret[-2:]
    return f"{secret[:4]}…{secret[-4:]}"
