"""Generation end to end: gateway → Kafka → generation → a fake upstream speaking the real
OpenAI and Anthropic protocols (driven by the real SDKs) → back, streamed, synchronous or
asynchronous."""

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import openai
import pytest
from generation_stack import (
    GenerationStack,
    User,
    final_status,
    register,
    sse_events,
    start_generation_stack,
    usage_records,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from table_rows import rows

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[GenerationStack]:
    yield from start_generation_stack()


@pytest.fixture
def http(stack: GenerationStack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture
def user(http: httpx.Client) -> User:
    return register(http)


def generate(http: httpx.Client, user: User, wait: int = 20, **body: object) -> httpx.Response:
    return http.post(
        "/v1/generations", json=body, headers={**user.headers, "Prefer": f"wait={wait}"}
    )


def test_synchronous_generation_through_openai_protocol_uses_the_server_key(
    http: httpx.Client, user: User, stack: GenerationStack
) -> None:
    prompt = f"sync {uuid.uuid4()}"
    response = generate(http, user, prompt=prompt, provider="fake-openai", model="fixed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"].startswith("Hello from the fake upstream")
    assert body["usage"]["output_tokens"] == len(body["content"].split())
    call = next(c for c in stack.upstream.calls("fixed") if prompt in str(c["messages"]))
    assert call["authorization"] == "Bearer server-key"
    assert call["stream"] is True
    assert final_status(http, user, body["request_id"])["status"] == "succeeded"


def test_a_users_own_key_takes_precedence_over_the_servers(
    http: httpx.Client, user: User, stack: GenerationStack
) -> None:
    own = "sk-own-" + uuid.uuid4().hex
    assert (
        http.put(
            "/v1/credentials/fake-anthropic", json={"api_key": own}, headers=user.headers
        ).status_code
        == 200
    )
    prompt = f"own key {uuid.uuid4()}"
    deadline = time.monotonic() + 15  # credentials.updated reaches generation asynchronously
    while True:
        response = generate(http, user, prompt=prompt, provider="fake-anthropic", model="fixed")
        assert response.status_code == 200, response.text
        keys = [
            c["x_api_key"] or c["authorization"]
            for c in stack.upstream.calls("fixed")
            if prompt in str(c)
        ]
        keys = [k.removeprefix("Bearer ") for k in keys]
        if keys[-1] == own or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert keys[-1] == own


def test_streamed_generation_through_anthropic_protocol(
    http: httpx.Client, user: User, stack: GenerationStack, bootstrap: str
) -> None:
    body = {
        "prompt": "stream please",
        "provider": "fake-anthropic",
        "model": "fixed",
        "system_prompt": "Answer briefly.",
        "stream": True,
    }
    with http.stream("POST", "/v1/generations", json=body, headers=user.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(response.iter_lines()))
    names = [name for name, _ in events]
    assert names[0] == "start"
    assert names[-1] == "done"
    deltas = [data for name, data in events if name == "delta"]
    assert [d["sequence"] for d in deltas] == list(range(len(deltas)))
    done = events[-1][1]
    assert "".join(d["text"] for d in deltas) == done["content"]
    assert done["usage"]["output_tokens"] > 0
    assert isinstance(done["ttft_ms"], int)  # whole milliseconds, not 1057.9999999999927
    assert isinstance(done["latency_ms"], int)
    assert done["latency_ms"] >= done["ttft_ms"]
    call = stack.upstream.calls("fixed")[-1]
    assert call["api"] == "anthropic"
    assert call["system"] == "Answer briefly."
    [usage] = usage_records(bootstrap, done["request_id"])
    assert usage["payload"]["output_tokens"] == done["usage"]["output_tokens"]


def test_asynchronous_generation_answers_202_and_finishes_later(
    http: httpx.Client, user: User
) -> None:
    response = http.post("/v1/generations", json={"prompt": "later"}, headers=user.headers)
    assert response.status_code == 202
    accepted = response.json()
    assert response.headers["Location"] == accepted["status_url"]
    status = final_status(http, user, accepted["request_id"])
    assert status["status"] == "succeeded"
    assert status["detail"]["provider"] == "mock"


def test_with_generation_stopped_a_generation_is_accepted_as_fast_and_answered_when_it_is_back(
    stack: GenerationStack, user: User
) -> None:
    """The gateway checks models against its own copy of the catalogue: neither accepting nor
    listing needs generation running."""
    body = {"prompt": "while away", "provider": "fake-openai", "model": "fixed"}
    with stack.client() as http:
        usual = [timed_acceptance(http, user, body)[0] for _ in range(3)]
    stack.generation.terminate()
    stack.restart_gateway()  # no catalogue left in its memory either
    try:
        with stack.client() as http:
            models = http.get("/v1/models", headers=user.headers)
            assert models.status_code == 200, models.text
            assert "fake-openai/fixed" in [m["id"] for m in models.json()["data"]]
            away = [timed_acceptance(http, user, body) for _ in range(3)]
            statuses = [http.get(f"/v1/requests/{r}", headers=user.headers) for _, r in away]
    finally:
        stack.restart_generation()
    assert max(elapsed for elapsed, _ in away) < 3 * max(usual) + 0.5, (usual, away)
    assert [s.json()["status"] for s in statuses] == ["accepted"] * 3
    with stack.client() as http:
        for _, request_id in away:
            status = final_status(http, user, request_id, timeout=60)
            assert status["status"] == "succeeded", status


def timed_acceptance(
    http: httpx.Client, user: User, body: Mapping[str, object]
) -> tuple[float, str]:
    """Seconds to a 202, and the request's id."""
    started = time.monotonic()
    response = http.post("/v1/generations", json=body, headers=user.headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.text
    return elapsed, str(response.json()["request_id"])


def test_an_idempotency_key_replays_the_acceptance_and_starts_one_generation(
    http: httpx.Client, user: User, bootstrap: str
) -> None:
    headers = {**user.headers, "Idempotency-Key": f"retry-{uuid.uuid4().hex[:8]}"}
    first = http.post("/v1/generations", json={"prompt": "once"}, headers=headers)
    again = http.post("/v1/generations", json={"prompt": "once"}, headers=headers)
    other = http.post("/v1/generations", json={"prompt": "twice"}, headers=headers)
    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 409)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    request_id = first.json()["request_id"]
    assert final_status(http, user, request_id)["status"] == "succeeded"
    accepted = http.get("/v1/requests", headers=user.headers).json()["items"]
    assert [item["id"] for item in accepted] == [request_id]
    assert len(usage_records(bootstrap, request_id)) == 1  # generated and billed once


def test_openai_sdk_works_unchanged_against_chat_completions(
    stack: GenerationStack, http: httpx.Client, user: User
) -> None:
    key = http.post(
        "/v1/api-keys", json={"name": "sdk", "scopes": ["generate"]}, headers=user.headers
    ).json()["key"]
    client = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=key, max_retries=0)
    completion = client.chat.completions.create(
        model="fake-openai/fixed",
        messages=[{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}],
    )
    assert (completion.choices[0].message.content or "").startswith("Hello from the fake upstream")
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    stream = client.chat.completions.create(
        model="fake-openai/fixed",
        messages=[{"role": "user", "content": "stream"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage = [], None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert "".join(parts) == completion.choices[0].message.content
    assert usage is not None
    assert usage.total_tokens > 0
    ids = [model.id for model in client.models.list()]
    assert "mock/mock-1" in ids
    assert "fake-openai/fixed" in ids
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such", messages=[{"role": "user", "content": "x"}])
    tool_message: Any = {"role": "tool", "content": "x"}  # a role this API does not take
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="fake-openai/fixed", messages=[tool_message])


def test_failing_provider_falls_back_to_the_next_in_the_chain(
    http: httpx.Client, user: User, stack: GenerationStack, bootstrap: str
) -> None:
    prompt = f"fallback {uuid.uuid4()}"
    response = generate(
        http,
        user,
        prompt=prompt,
        provider="fake-openai",
        model="fail-500",
        fallbacks=["fake-anthropic/fixed"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["provider"], body["model"]) == ("fake-anthropic", "fixed")
    # the SDK retried the failing call before the chain moved on
    assert len([c for c in stack.upstream.calls("fail-500") if prompt in str(c)]) == 3
    [usage] = usage_records(bootstrap, body["request_id"])
    assert usage["payload"]["provider"] == "fake-anthropic"


def test_rate_limited_call_is_retried_after_retry_after(
    http: httpx.Client, user: User, stack: GenerationStack
) -> None:
    prompt = f"limited {uuid.uuid4()}"
    response = generate(http, user, prompt=prompt, provider="fake-openai", model="limited-once")
    assert response.status_code == 200, response.text
    calls = [c for c in stack.upstream.calls("limited-once") if prompt in str(c)]
    assert len(calls) == 2
    assert calls[1]["at"] - calls[0]["at"] >= 0.9  # Retry-After: 1


def test_a_failure_no_fallback_can_help_is_a_clear_error(http: httpx.Client, user: User) -> None:
    response = generate(http, user, prompt="x", provider="fake-openai", model="overloaded-529")
    assert response.status_code == 503
    problem = response.json()
    assert problem["error_class"] == "overloaded"
    assert problem["retryable"] is True


def test_history_is_carried_into_the_next_turn_and_trimmed_to_the_context_window(
    http: httpx.Client, user: User, stack: GenerationStack
) -> None:
    first = generate(http, user, prompt="first question", provider="fake-openai", model="tiny")
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    second = generate(
        http,
        user,
        prompt="second question",
        provider="fake-openai",
        model="tiny",
        conversation_id=conversation,
    )
    assert second.status_code == 200, second.text
    sent = stack.upstream.calls("tiny")[-1]["messages"]
    assert next(m["content"] for m in sent) == "first question"
    assert sent[-1]["content"] == "second question"
    # `tiny` has a 400-token window and reserves 100 for the answer: a long turn pushes the
    # history out, oldest first, while the new turn itself still fits.
    long_prompt = "word " * 200
    third = generate(
        http,
        user,
        prompt=long_prompt,
        provider="fake-openai",
        model="tiny",
        conversation_id=conversation,
    )
    assert third.status_code == 200, third.text
    sent = [m["content"] for m in stack.upstream.calls("tiny")[-1]["messages"]]
    assert "first question" not in sent
    assert sent[0] == "second question"
    assert sent[-1] == long_prompt
    read = http.get(f"/v1/conversations/{conversation}", headers=user.headers).json()
    assert [m["role"] for m in read["messages"]] == ["user", "assistant"] * 3
    assert read["title"] == "first question"


def test_a_user_can_never_read_or_continue_anothers_conversation(
    http: httpx.Client, user: User
) -> None:
    mine = generate(http, user, prompt="private").json()["conversation_id"]
    other = register(http)
    assert http.get(f"/v1/conversations/{mine}", headers=other.headers).status_code == 404
    assert http.get(f"/v1/conversations/{mine}/export", headers=other.headers).status_code == 404
    response = generate(http, other, prompt="hijack", conversation_id=mine)
    assert response.status_code == 404
    listed = http.get("/v1/conversations", headers=other.headers).json()["items"]
    assert mine not in [c["conversation_id"] for c in listed]


def test_conversations_list_rename_export_and_delete(http: httpx.Client, user: User) -> None:
    ids = [generate(http, user, prompt=f"topic {n}").json()["conversation_id"] for n in range(3)]
    first_page = http.get("/v1/conversations?limit=2", headers=user.headers).json()
    assert len(first_page["items"]) == 2
    assert first_page["next_cursor"]
    rest = http.get(
        f"/v1/conversations?limit=2&cursor={first_page['next_cursor']}", headers=user.headers
    ).json()
    listed = [c["conversation_id"] for c in first_page["items"] + rest["items"]]
    assert listed == ids[::-1]
    renamed = http.patch(
        f"/v1/conversations/{ids[0]}", json={"title": "Renamed"}, headers=user.headers
    )
    assert renamed.json()["title"] == "Renamed"
    markdown = http.get(f"/v1/conversations/{ids[0]}/export?format=markdown", headers=user.headers)
    assert markdown.text.startswith("# Renamed")
    assert "## User" in markdown.text
    assert http.delete(f"/v1/conversations/{ids[0]}", headers=user.headers).status_code == 204
    assert http.get(f"/v1/conversations/{ids[0]}", headers=user.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages"),
        ({"prompt": "x", "provider": "nope"}, "model"),
        ({"prompt": "x", "temperature": 3}, "temperature"),
        ({"prompt": "x", "model": "mock-1", "max_tokens": 999_999}, "max_tokens"),
        ({"prompt": "word " * 40_000}, "messages"),
        ({"prompt": "x", "fallbacks": ["nonsense"]}, "fallbacks"),
    ],
)
def test_bad_input_is_refused_before_anything_is_published(
    http: httpx.Client, user: User, body: dict[str, object], field: str
) -> None:
    response = http.post("/v1/generations", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"]
    requests = http.get("/v1/requests", headers=user.headers).json()["items"]
    assert requests == []  # nothing accepted, so nothing published or billed


def test_client_leaving_mid_stream_cancels_the_upstream_call(
    http: httpx.Client, user: User, stack: GenerationStack, bootstrap: str
) -> None:
    aborted_before = stack.upstream.fake.state.aborted
    body = {"prompt": "long", "provider": "fake-openai", "model": "slow-stream", "stream": True}
    request_id = None
    with http.stream("POST", "/v1/generations", json=body, headers=user.headers) as response:
        for name, data in sse_events(response.iter_lines()):
            if name == "start":
                request_id = data["request_id"]
            if name == "delta" and data["sequence"] >= 3:
                break  # leave after a few chunks
    deadline = time.monotonic() + 10
    while stack.upstream.fake.state.aborted == aborted_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.upstream.fake.state.aborted == aborted_before + 1
    assert request_id is not None
    status = final_status(http, user, request_id)
    assert status["detail"]["error"]["class"] == "cancelled"
    [usage] = usage_records(bootstrap, request_id)
    assert 0 < usage["payload"]["output_tokens"] < 200  # billed up to the cancellation


def test_generation_killed_mid_stream_gives_a_clear_outcome_and_bills_once(
    http: httpx.Client, user: User, stack: GenerationStack, bootstrap: str
) -> None:
    body = {"prompt": "crash", "provider": "fake-openai", "model": "slow-stream", "stream": True}
    events: list[tuple[str, dict[str, object]]] = []
    with (
        stack.client(timeout=120) as long_http,
        long_http.stream("POST", "/v1/generations", json=body, headers=user.headers) as response,
    ):
        for name, data in sse_events(response.iter_lines()):
            events.append((name, data))
            if name == "delta" and data["sequence"] == 3:
                stack.generation.kill()
                stack.restart_generation()
            if name in ("done", "error"):
                break
    last_name, last = events[-1]
    assert last_name in ("done", "error")
    if last_name == "error":
        assert last["retryable"] is True
    request_id = str(events[0][1]["request_id"])
    records = usage_records(bootstrap, request_id)
    assert len(records) <= 1


async def test_every_column_a_generation_writes_is_read_back(
    http: httpx.Client, user: User, engine: AsyncEngine
) -> None:
    """The job, the turn and the content history of one answer, column by column, against
    what the answer (the `generation.completed` event's payload) reported."""
    prompt = f"stored {uuid.uuid4()}"
    response = generate(
        http, user, prompt=prompt, provider="fake-openai", model="fixed", system_prompt="Brief."
    )
    assert response.status_code == 200, response.text
    done = response.json()
    request_id = uuid.UUID(done["request_id"])
    [job] = await rows(
        engine, "SELECT * FROM generation.generation_jobs WHERE request_id = :r", r=request_id
    )
    [history] = await rows(
        engine, "SELECT * FROM generation.content_history WHERE id = :r", r=request_id
    )
    turn = await rows(
        engine,
        "SELECT * FROM generation.messages WHERE request_id = :r ORDER BY created_at",
        r=request_id,
    )
    assert (job["user_id"], job["status"], job["attempts"]) == (
        uuid.UUID(user.user_id),
        "succeeded",
        1,
    )
    assert job["worker"]
    assert job["event_id"]
    assert job["created_at"] <= job["heartbeat_at"] <= job["finished_at"]
    usage = done["usage"]
    assert {k: history[k] for k in history if k not in ("created_at", "metadata", "words")} == {
        "id": request_id,
        "user_id": uuid.UUID(user.user_id),
        "conversation_id": uuid.UUID(done["conversation_id"]),
        "provider": "fake-openai",
        "model": "fixed",
        "prompt": prompt,
        "generated_content": done["content"],
        "notion_page_id": None,
        "notion_url": None,
    }
    # The prompt's and the answer's words, stemmed as Portuguese and as English, for search.
    assert {"'hell':", "'hello':", "'everi':", "'every':"} <= {
        word[: word.index(":") + 1] for word in history["words"].split()
    }
    assert history["metadata"] == {
        "finish_reason": done["finish_reason"],
        "fallbacks": [],
        "citations": [],
        "usage": usage,
    }
    question, answer = turn
    assert (question["role"], question["content"]) == ("user", prompt)
    assert answer["id"] == uuid.UUID(done["message_id"])
    assert (answer["role"], answer["content"], answer["provider"], answer["model"]) == (
        "assistant",
        done["content"],
        "fake-openai",
        "fixed",
    )
    assert (answer["input_tokens"], answer["output_tokens"], answer["cached_tokens"]) == (
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cached_tokens"],
    )
    assert round(answer["latency_ms"]) == done["latency_ms"]
    assert round(answer["ttft_ms"]) == done["ttft_ms"]
