"""Registration rules, the caller's own profile and settings, password change, deactivation."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway_service.models import users
from gateway_test_support import PASSWORD, Register, bearer


async def user_count(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(users)) or 0)


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"email": "not-an-email"}, "email", "value_error"),
        ({"username": "a"}, "username", "string_pattern_mismatch"),
        ({"password": "short1A!"}, "password", "string_too_short"),  # documented: minLength
        ({"password": "alllowercaseletters"}, "password", "value_error"),
        ({"password": "Ada-Lovelace-1"}, "password", "value_error"),
        ({"password": 12345}, "password", "string_type"),
        ({"admin": True}, "admin", "extra_forbidden"),
    ],
)
async def test_bad_registrations_name_the_field_and_rule_and_write_nothing(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    body: dict[str, object],
    field: str,
    rule: str,
) -> None:
    before = await user_count(connection)
    valid = {"email": "ada@example.org", "username": "ada_lovelace", "password": PASSWORD}
    response = await client.post("/v1/auth/register", json={**valid, **body})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in problem["errors"]
    ]
    assert await user_count(connection) == before


async def test_malformed_json_is_a_problem_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("email", "username", "clash"),
    [
        ("ADA@Example.org", "someone_else", ["email"]),
        ("other@example.org", "ADA", ["username"]),
    ],
)
async def test_email_and_username_are_unique_in_any_case(
    client: httpx.AsyncClient,
    register: Register,
    connection: AsyncConnection,
    email: str,
    username: str,
    clash: list[str],
) -> None:
    await register("ada")
    before = await user_count(connection)
    response = await client.post(
        "/v1/auth/register", json={"email": email, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 409
    assert response.json()["fields"] == clash
    assert await user_count(connection) == before


async def test_a_new_account_is_solo_not_admin_with_empty_settings(register: Register) -> None:
    user = (await register("ada", full_name="Ada Lovelace"))["user"]
    assert user["email"] == "ada@example.org"
    assert (user["plan_tier"], user["is_admin"], user["is_active"]) == ("solo", False, True)
    assert user["settings"] == {
        "default_provider": None,
        "default_model": None,
        "notion_config": {},
        "ui_preferences": {},
    }
    assert "password" not in str(user)


async def test_each_user_reads_and_changes_only_their_own_profile_and_settings(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada, bob = await register("ada"), await register("bob")
    patch = {
        "full_name": "Ada L.",
        "settings": {"default_provider": "anthropic", "ui_preferences": {"theme": "dark"}},
    }
    changed = await client.patch("/v1/me", json=patch, headers=bearer(ada["access_token"]))
    assert changed.status_code == 200
    assert changed.json()["settings"]["default_provider"] == "anthropic"
    adas = (await client.get("/v1/me", headers=bearer(ada["access_token"]))).json()
    assert adas["full_name"] == "Ada L."
    assert adas["settings"]["ui_preferences"] == {"theme": "dark"}

    bobs = (await client.get("/v1/me", headers=bearer(bob["access_token"]))).json()
    assert bobs["username"] == "bob"
    assert bobs["full_name"] is None
    assert bobs["settings"]["default_provider"] is None
    assert bobs["settings"]["ui_preferences"] == {}


async def test_renaming_to_a_taken_username_conflicts(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    await register("bob")
    taken = await client.patch(
        "/v1/me", json={"username": "BOB"}, headers=bearer(ada["access_token"])
    )
    assert taken.status_code == 409
    own = await client.patch(
        "/v1/me", json={"username": "ADA"}, headers=bearer(ada["access_token"])
    )
    assert own.status_code == 200
    assert own.json()["username"] == "ADA"


async def test_a_password_change_logs_out_everywhere(
    client: httpx.AsyncClient, register: Register
) -> None:
    ada = await register("ada")
    wrong = await client.post(
        "/v1/me/password",
        headers=bearer(ada["access_token"]),
        json={"current_password": "nope", "new_password": "New-Secret-77"},
    )
    assert wrong.status_code == 403
    weak = await client.post(
        "/v1/me/password",
        headers=bearer(ada["access_token"]),
        json={"current_password": PASSWORD, "new_password": "weak"},
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"

    changed = await client.post(
        "/v1/me/password",
        headers=bearer(ada["access_token"]),
        json={"current_password": PASSWORD, "new_password": "New-Secret-77"},
    )
    assert changed.status_code == 204
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert refresh.status_code == 401
    old = await client.post("/v1/auth/login", json={"login": "ada", "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/v1/auth/login", json={"login": "ada", "password": "New-Secret-77"})
    assert new.status_code == 200


async def test_a_deactivated_account_keeps_its_row_but_cannot_be_used(
    client: httpx.AsyncClient, register: Register, connection: AsyncConnection
) -> None:
    ada = await register("ada")
    assert (
        await client.post("/v1/me/deactivate", headers=bearer(ada["access_token"]))
    ).status_code == 204
    assert (await client.get("/v1/me", headers=bearer(ada["access_token"]))).status_code == 401
    login = await client.post("/v1/auth/login", json={"login": "ada", "password": PASSWORD})
    assert login.status_code == 403
    assert login.json()["type"].endswith("/account-deactivated")
    row = (await connection.execute(select(users).where(users.c.username == "ada"))).one()
    assert row.is_active is False
    assert row.deactivated_at is not None


def test_the_password_rule_ignores_names_it_could_not_read() -> None:
    from gateway_service.accounts.passwords import weakness

    assert weakness("Correct-Horse-42", username="", email="") is None
    assert weakness("Correct-Horse-42", username="horse", email="x@y.z") is not None
