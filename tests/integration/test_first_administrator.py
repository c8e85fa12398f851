"""After `make run` nobody is an administrator: the README's `make admin LOGIN=...` makes one
of an account registered through the API, and it can administer at once."""

import subprocess
import uuid
from collections.abc import Iterator

import httpx
import pytest
from generation_stack import register

from assistant_stack.profiles import REPO
from service_process import ServiceProcess, free_port


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    port = free_port()
    gateway = ServiceProcess("gateway_service", port, {"GATEWAY_HTTP_PORT": str(port)})
    try:
        gateway.wait_ready(60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        gateway.terminate()


def make_admin(login: str) -> subprocess.CompletedProcess[str]:
    """The README's command, as typed (the test stack's profile is in the environment)."""
    return subprocess.run(
        ["make", "--no-print-directory", "admin", f"LOGIN={login}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_admin_turns_a_registered_account_into_an_administrator(http: httpx.Client) -> None:
    ada = register(http)
    assert http.get("/v1/admin/users", headers=ada.headers).status_code == 403
    me = http.get("/v1/me", headers=ada.headers).json()

    done = make_admin(me["username"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{me['username']} ({me['email']}, {me['id']}) is an administrator now" in done.stdout

    listed = http.get("/v1/admin/users", headers=ada.headers)  # the same token: read per request
    assert listed.status_code == 200, listed.text
    assert http.get("/v1/me", headers=ada.headers).json()["is_admin"] is True


def test_make_admin_names_an_unknown_account_and_changes_nothing() -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    done = make_admin(nobody)
    assert done.returncode != 0
    assert f"no account has the username or email '{nobody}'" in done.stderr
    usage = subprocess.run(["make", "admin"], cwd=REPO, capture_output=True, text=True)
    assert usage.returncode != 0
    assert "usage: make admin LOGIN=<username or email>" in usage.stderr
