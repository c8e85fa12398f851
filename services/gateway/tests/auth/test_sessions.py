"""Register → login → refresh → call → logout, and what must fail along the way."""

import httpx

from gateway_test_support import PASSWORD, Register, bearer


async def test_the_whole_session_lifecycle(client: httpx.AsyncClient, register: Register) -> None:
    tokens = await register("ada")

    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    pair = refreshed.json()
    assert pair["refresh_token"] != tokens["refresh_token"]
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60

    me = await client.get("/v1/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "ada"

    out = await client.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert out.status_code == 204
    again = await client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, register: Register
) -> None:
    stolen = (await register("ada"))["refresh_token"]
    legitimate = (await client.post("/v1/auth/refresh", json={"refresh_token": stolen})).json()

    reuse = await client.post("/v1/auth/refresh", json={"refresh_token": stolen})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    # The thief's reuse also ends the legitimate holder's session of that family.
    after = await client.post(
        "/v1/auth/refresh", json={"refresh_token": legitimate["refresh_token"]}
    )
    assert after.status_code == 401


async def test_other_logins_are_separate_families(
    client: httpx.AsyncClient, register: Register
) -> None:
    first = await register("ada")
    second = (
        await client.post("/v1/auth/login", json={"login": "ADA@example.org", "password": PASSWORD})
    ).json()
    await client.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
    still = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert still.status_code == 200


async def test_wrong_credentials_are_one_generic_401(
    client: httpx.AsyncClient, register: Register
) -> None:
    await register("ada")
    for login, password in (("ada", "Wrong-Password-1"), ("nobody", PASSWORD)):
        response = await client.post("/v1/auth/login", json={"login": login, "password": password})
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong login or password"
        assert response.json()["type"].endswith("/unauthorized")
