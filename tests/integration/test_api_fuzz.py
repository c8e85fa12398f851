"""The whole HTTP API fuzzed from its OpenAPI document (schemathesis), against the five real
services: whatever a client sends, the answer is never a server error, and every answer is one
the document describes — its status, its content type (errors are `application/problem+json`,
OpenAI's error object on the OpenAI paths), its headers and its body. Bounded: a fixed number
of generated requests per operation.

Left out: the operations that end the fuzzing user's session (deleting or deactivating the
account, changing its password) and login, whose failures are throttled per client address —
all fuzzed requests come from 127.0.0.1; the text-field fuzz test sends hostile logins."""

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from generation_stack import PASSWORD
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import NoSuchExample
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assistant_stack.profiles import SERVICES
from service_process import ServiceProcess, free_port

pytestmark = pytest.mark.stack

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """The five services; the gateway's base URL."""
    processes = {}
    env = {"GATEWAY_JWT_SECRET": "f" * 40, "GENERATION_MOCK_TOKEN_DELAY_MS": "1"}
    try:
        for service in SERVICES:
            port = free_port()
            processes[service] = ServiceProcess(
                f"{service}_service", port, {**env, f"{service.upper()}_HTTP_PORT": str(port)}
            )
        for process in processes.values():
            process.wait_ready(timeout=120)  # ingestion loads its model first
        yield f"http://127.0.0.1:{processes['gateway'].port}"
    finally:
        for process in processes.values():
            process.stop()


@pytest.fixture(scope="module")
def token(gateway: str) -> str:
    name = f"fuzz{uuid.uuid4().hex[:10]}"
    body = {"email": f"{name}@example.org", "username": name, "password": PASSWORD}
    assert httpx.post(f"{gateway}/v1/auth/register", json=body).status_code == 201
    login = httpx.post(f"{gateway}/v1/auth/login", json={"login": name, "password": PASSWORD})
    return str(login.json()["access_token"])


CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LEFT_OUT = {
    ("DELETE", "/v1/me"),
    ("POST", "/v1/me/deactivate"),
    ("POST", "/v1/me/password"),
    ("POST", "/v1/auth/login"),
}


def distinct(case: Any, report: str) -> str:
    """One line per kind of nonconformance of an operation: which check, what was received."""
    found = re.findall(r"- (ST\d+ [^\n]+)\n\n\s+Received: ([^\n]+)", report)
    what = "; ".join(f"{check}: {received[:80]}" for check, received in found) or report[:300]
    return f"{case.method} {case.path}: {what}"


def test_no_request_gets_a_server_error(gateway: str, token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{gateway}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "every operation of the document can be fuzzed"
    fuzzed = [op for op in operations if (op.method.upper(), op.path) not in LEFT_OUT]
    assert len(fuzzed) == len(operations) - len(LEFT_OUT), "a left-out operation is gone"
    failures: list[str] = []
    sent = 0
    headers = {"Authorization": f"Bearer {token}"}
    for operation in fuzzed:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same requests every run: a failure reproduces
            database=None,
        )
        def call(case: Any) -> None:
            nonlocal sent
            sent += 1
            response = case.call(base_url=gateway, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:300]}\n  {case.as_curl_command()}"
                )
            try:  # the answer is one the document describes
                case.validate_response(response, checks=CONFORMANCE)
            except BaseException as nonconforming:  # schemathesis raises an exception group
                failures.append(distinct(case, str(nonconforming)))

        call()
    failures = list(dict.fromkeys(failures))  # each distinct failure once
    assert not failures, "\n".join(failures[:40])
    assert sent >= 10 * len(fuzzed), "the fuzzer generated requests"


HOSTILE_TEXT = {
    "nul": "nul\x00byte",
    "lone surrogate": "\ud800",
    "1 MB": "x" * 1_000_000,
    "right-to-left": "\u202eexe.txt",
    "combining": "e\u0301" * 500,
}


def string_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_paths(item, (*path, index))


def replaced(document: Any, path: tuple[str | int, ...], new: str) -> Any:
    if not path:
        return new
    copy = list(document) if isinstance(document, list) else dict(document)
    copy[path[0]] = replaced(document[path[0]], path[1:], new)  # type: ignore[index]
    return copy


def a_case_with_text(operation: Any) -> Any | None:
    """A valid request of `operation` with a JSON body or query parameters, if it has any."""
    try:
        return find(
            operation.as_strategy(),
            lambda case: isinstance(case.body, dict) or bool(case.query),
            settings=settings(database=None, derandomize=True),
        )
    except NoSuchExample:
        return None


def hostile_variants(case: Any) -> Iterator[tuple[str, str, str | None]]:
    """(what was replaced, query string, JSON body) for each string of the case, each hostile
    text. The query is encoded here: a lone surrogate goes as the bytes a hostile client would
    send (`%ED%A0%80`), which no well-behaved URL encoder produces."""
    body = case.body if isinstance(case.body, dict) else None
    query = dict(case.query or {})
    for field in string_paths(body or {}):
        for kind, text in HOSTILE_TEXT.items():
            yield f"{field} {kind}", encoded(query), json.dumps(replaced(body, field, text))
    for name, value in query.items():
        if not isinstance(value, str):
            continue
        for kind, text in HOSTILE_TEXT.items():
            if kind != "1 MB":  # no server takes a 1 MB URL: the client refuses it first
                hostile = encoded({**query, name: text})
                yield f"?{name} {kind}", hostile, json.dumps(body) if body else None


def encoded(query: dict[str, Any]) -> str:
    pairs = [
        (name, item.encode("utf-8", "surrogatepass") if isinstance(item, str) else str(item))
        for name, value in query.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return urlencode(pairs)


def test_every_string_field_takes_hostile_text_without_a_server_error(
    gateway: str, token: str
) -> None:
    """Each string of a valid body of every JSON operation, and each string query parameter,
    replaced in turn by NUL, a lone surrogate, 1 MB, right-to-left and combining text."""
    schema = schemathesis.openapi.from_url(f"{gateway}/openapi.json")
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    session_enders = LEFT_OUT - {("POST", "/v1/auth/login")}
    failures: list[str] = []
    accepted: list[str] = []
    tried = 0
    with httpx.Client(base_url=gateway, timeout=30) as http:
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            case = a_case_with_text(operation)
            if case is None or (operation.method.upper(), operation.path) in session_enders:
                continue
            for replaced_what, query, body in hostile_variants(case):
                url = f"{case.formatted_path}?{query}" if query else case.formatted_path
                response = http.request(case.method, url, content=body, headers=headers)
                tried += 1
                if response.status_code == 202 and "request_id" in response.json():
                    accepted.append(response.json()["request_id"])
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {replaced_what}: "
                        f"{response.status_code} {response.text[:200]}"
                    )
        for kind, text in HOSTILE_TEXT.items():  # a body known valid, so text is accepted
            body = json.dumps({"prompt": text, "system_prompt": text})
            response = http.post("/v1/generations", content=body, headers=headers)
            if response.status_code == 202:
                accepted.append(response.json()["request_id"])
            elif response.status_code >= 500:
                failures.append(f"POST /v1/generations prompt {kind}: {response.status_code}")
        stuck = [r for r in accepted if not finished(http, r, headers)]
    assert not failures, "\n".join(failures[:20])
    assert tried >= 100, "hostile text was sent"
    assert accepted, "some hostile but valid text was accepted"
    assert not stuck, f"requests that never finished: {stuck}"


def finished(http: httpx.Client, request_id: str, headers: dict[str, str]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = http.get(f"/v1/requests/{request_id}", headers=headers).json()["status"]
        if status in ("succeeded", "failed"):
            return True
        time.sleep(0.3)
    return False


def test_a_bad_cursor_is_422_naming_it_on_every_paginated_endpoint(gateway: str) -> None:
    """One rule for every list (it was 400 on some, 422 on others): the endpoints are those
    of the document that take a `cursor`, administrators' included."""
    document = httpx.get(f"{gateway}/openapi.json").json()
    paginated = [
        path
        for path, operations in document["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    ]
    assert {"/v1/conversations", "/v1/documents", "/v1/requests", "/v1/admin/users"} <= set(
        paginated
    )
    admin = f"fuzzadmin{uuid.uuid4().hex[:8]}"
    body = {"email": f"{admin}@example.org", "username": admin, "password": PASSWORD}
    assert httpx.post(f"{gateway}/v1/auth/register", json=body).status_code == 201
    promoted = subprocess.run(
        [sys.executable, "-m", "gateway_service", "make-admin", admin], capture_output=True
    )
    assert promoted.returncode == 0, promoted.stderr
    login = httpx.post(f"{gateway}/v1/auth/login", json={"login": admin, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for path in paginated:
        for cursor in ("not-a-cursor", "eyJ4IjogMX0", "%00"):
            answer = httpx.get(f"{gateway}{path}", params={"cursor": cursor}, headers=headers)
            assert answer.status_code == 422, (path, cursor, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            problem = answer.json()
            assert problem["errors"][0]["field"] == "cursor", (path, problem)
