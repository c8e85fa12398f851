"""Password hashing (Argon2id) and the strength rule applied at registration and change."""

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


# A real hash, so verifying an unknown login costs the same time as a known one.
_DUMMY_HASH = hash_password("not-a-password-of-anyone")


def burn_verification_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def weakness(password: str, *, username: str, email: str) -> str | None:
    """Why `password` is too weak, or None. The reason names the rule."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    classes = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if classes < 3:
        return "must mix at least three of: lower case, upper case, digits, symbols"
    lowered = password.lower()
    names = [name.lower() for name in (username, email.split("@")[0]) if len(name) >= 3]
    if any(name in lowered for name in names):
        return "must not contain the username or the email's name"
    return None
