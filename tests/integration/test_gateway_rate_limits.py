"""Rate limits hold across gateway processes: two real gateways, one user, one shared budget."""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service_process import ServiceProcess, free_port

SOLO_GENERATIONS_PER_MINUTE = 100
PASSWORD = "Correct-Horse-42"


def start(service: str, env: dict[str, str]) -> ServiceProcess:
    port = free_port()
    prefix = service.removesuffix("_service").upper()
    return ServiceProcess(service, port, {**env, f"{prefix}_HTTP_PORT": str(port)})


def wait_for_a_fresh_minute() -> None:
    """The sliding window weighs the previous minute in; start early in one so none leaks in."""
    second = datetime.now(UTC).second
    if second > 45:
        time.sleep(61 - second)


async def test_two_gateway_processes_share_one_users_generation_budget(
    engine: AsyncEngine,
) -> None:
    env = {"GATEWAY_JWT_SECRET": "r" * 40}  # a token from one instance is valid at the other
    gateways = [start("gateway_service", env), start("gateway_service", env)]
    generation = start("generation_service", env)  # answers the catalogue admission checks
    try:
        for process in (*gateways, generation):
            await asyncio.to_thread(process.wait_ready, 60)
        bases = [f"http://127.0.0.1:{gateway.port}" for gateway in gateways]
        async with httpx.AsyncClient(timeout=30) as http:
            name = f"u{uuid.uuid4().hex[:10]}"
            registered = await http.post(
                f"{bases[0]}/v1/auth/register",
                json={"email": f"{name}@example.org", "username": name, "password": PASSWORD},
            )
            assert registered.status_code == 201, registered.text
            login = await http.post(
                f"{bases[1]}/v1/auth/login", json={"login": name, "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await asyncio.to_thread(wait_for_a_fresh_minute)

            async def generate(index: int) -> httpx.Response:
                return await http.post(
                    f"{bases[index % 2]}/v1/generations",
                    json={"prompt": f"request {index}", "model": "mock-1"},
                    headers=headers,
                )

            responses = await asyncio.gather(*(generate(i) for i in range(130)))
            user_id = (await http.get(f"{bases[0]}/v1/me", headers=headers)).json()["id"]
    finally:
        for process in (*gateways, generation):
            process.terminate()

    statuses = [response.status_code for response in responses]
    assert statuses.count(202) == SOLO_GENERATIONS_PER_MINUTE
    assert statuses.count(429) == 30
    refused = next(response for response in responses if response.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == str(SOLO_GENERATIONS_PER_MINUTE)
    assert refused.headers["RateLimit-Remaining"] == "0"
    # Each admitted request is told its own place in the shared budget.
    accepted_responses = [response for response in responses if response.status_code == 202]
    assert {r.headers["RateLimit-Limit"] for r in accepted_responses} == {"100"}
    remaining = sorted(int(r.headers["RateLimit-Remaining"]) for r in accepted_responses)
    assert remaining == list(range(SOLO_GENERATIONS_PER_MINUTE))
    admitted_by = {response.url.port for response in accepted_responses}
    assert admitted_by == {gateway.port for gateway in gateways}
    # A refused request leaves nothing behind: a status row for each accepted one only.
    async with engine.connect() as connection:
        accepted = await connection.scalar(
            text("SELECT count(*) FROM gateway.requests WHERE user_id = :user"),
            {"user": uuid.UUID(user_id)},
        )
    assert accepted == SOLO_GENERATIONS_PER_MINUTE
