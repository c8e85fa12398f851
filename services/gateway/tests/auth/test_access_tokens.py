"""Access tokens: only valid, unexpired, HS256-signed tokens with our secret pass."""

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest

from gateway_test_support import JWT_SECRET, Register, bearer


def b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


async def test_a_request_without_a_token_is_told_how_to_authenticate(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "forgery",
    ["expired", "tampered", "alg-none", "other-secret", "refresh-token-as-access", "unknown-user"],
)
async def test_forged_and_expired_tokens_are_rejected(
    client: httpx.AsyncClient, register: Register, forgery: str
) -> None:
    tokens = await register("ada")
    user_id = tokens["user"]["id"]
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + 600, "jti": "j", "typ": "access"}
    if forgery == "expired":
        token = jwt.encode({**claims, "iat": now - 1200, "exp": now - 600}, JWT_SECRET, "HS256")
    elif forgery == "tampered":
        header, _, signature = tokens["access_token"].split(".")
        token = f"{header}.{b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}"
    elif forgery == "alg-none":
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    elif forgery == "other-secret":
        token = jwt.encode(claims, "another-secret-" + "y" * 40, "HS256")
    elif forgery == "refresh-token-as-access":
        token = tokens["refresh_token"]
    else:
        token = jwt.encode({**claims, "sub": str(uuid.uuid4())}, JWT_SECRET, "HS256")

    response = await client.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["type"].endswith("/unauthorized")


async def test_a_well_formed_token_carries_the_required_claims(register: Register) -> None:
    tokens = await register("ada")
    claims = jwt.decode(tokens["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert {"sub", "exp", "iat", "jti"} <= claims.keys()
    assert claims["sub"] == tokens["user"]["id"]
    assert claims["exp"] - claims["iat"] == 15 * 60
