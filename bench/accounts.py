"""Accounts for benchmarks: an administrator and enterprise users (rate limits are per user)."""

import uuid

import httpx

PASSWORD = "Bench-Password-2026"


def bench_users(base: str, admin_email: str, count: int) -> list[str]:
    """API keys of `count` enterprise users (rate limits are per user)."""
    keys = []
    with httpx.Client(base_url=base, timeout=30) as http:
        admin = {"Authorization": f"Bearer {login_admin(http, admin_email)}"}
        for _ in range(count):
            name = f"bench{uuid.uuid4().hex[:10]}"
            created = http.post(
                "/v1/auth/register",
                json={"email": f"{name}@example.org", "username": name, "password": PASSWORD},
            )
            created.raise_for_status()
            http.patch(
                f"/v1/admin/users/{created.json()['id']}",
                json={"plan_tier": "enterprise"},
                headers=admin,
            ).raise_for_status()
            token = http.post("/v1/auth/login", json={"login": name, "password": PASSWORD}).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            keys.append(
                http.post("/v1/api-keys", json={"name": "b"}, headers=headers).json()["key"]
            )
    return keys


def login_admin(http: httpx.Client, admin_email: str) -> str:
    name = admin_email.split("@")[0]
    http.post(
        "/v1/auth/register",
        json={"email": admin_email, "username": name, "password": PASSWORD},
    )
    return str(
        http.post("/v1/auth/login", json={"login": name, "password": PASSWORD}).json()[
            "access_token"
        ]
    )
