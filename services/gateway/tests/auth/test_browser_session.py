"""A browser's session: the refresh token in an `HttpOnly` cookie that only `/v1/auth` gets,
rotated by a refresh with no body, revoked and cleared by a logout with no body."""

import httpx

from gateway_test_support import PASSWORD, Register, bearer

COOKIE = "na_refresh"


def set_cookie(response: httpx.Response) -> str:
    [header] = response.headers.get_list("set-cookie")
    return header


async def test_the_refresh_cookie_is_kept_from_scripts_and_other_sites(
    client: httpx.AsyncClient, register: Register
) -> None:
    await register("ada")
    login = await client.post("/v1/auth/login", json={"login": "ada", "password": PASSWORD})

    header = set_cookie(login)
    assert header.startswith(f"{COOKIE}={login.json()['refresh_token']};")
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "path=/v1/auth", "samesite=strict"} <= attributes
    assert "secure" not in attributes  # plain HTTP here; set when the request came over HTTPS
    assert f"max-age={30 * 24 * 3600}" in attributes


async def test_a_browser_refreshes_and_logs_out_with_the_cookie_alone(
    client: httpx.AsyncClient, register: Register
) -> None:
    first = await register("ada")  # its login left the cookie in the client's jar

    refreshed = await client.post("/v1/auth/refresh")

    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.cookies[COOKIE] == pair["refresh_token"]
    assert (await client.get("/v1/me", headers=bearer(pair["access_token"]))).status_code == 200

    out = await client.post("/v1/auth/logout")

    assert out.status_code == 204
    assert COOKIE not in client.cookies
    revoked = await client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert revoked.status_code == 401


async def test_a_refresh_with_no_token_or_a_spent_cookie_is_401_and_clears_it(
    client: httpx.AsyncClient, register: Register
) -> None:
    nothing = await client.post("/v1/auth/refresh")
    assert nothing.status_code == 401
    assert nothing.headers["content-type"] == "application/problem+json"
    assert "log in again" in nothing.json()["detail"]

    spent = (await register("ada"))["refresh_token"]
    assert (await client.post("/v1/auth/refresh")).status_code == 200  # rotates the cookie's
    client.cookies.set(COOKIE, spent, path="/v1/auth")

    reused = await client.post("/v1/auth/refresh")

    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    cleared = set_cookie(reused).lower()
    assert cleared.startswith(f"{COOKIE}=;")
    assert "max-age=0" in cleared
