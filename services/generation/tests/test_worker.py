"""The generation job's logic on in-memory fakes (`generation_fakes`): what is claimed, called,
streamed, billed and concluded, for each way a job can go."""

import uuid

from generation_fakes import (
    WAITING,
    FakeJobStore,
    ScriptedProviders,
    SentReplies,
    catalog,
    requested,
    worker,
)

from assistant_schemas.generation import (
    ChatMessage,
    GenerationCompletedV1,
    GenerationFailedV1,
)
from assistant_schemas.usage import UsageRecordedV1
from generation_service.job_store import Claim, Claimed
from generation_service.providers.base import ProviderError
from generation_service.settings import GenerationSettings

CATALOG = catalog(("p", "m", 32_000), ("q", "n", 32_000))


def outcome_kinds(store: FakeJobStore) -> list[str]:
    [conclusion] = store.concluded
    return [event.type for event in conclusion.events]


async def test_a_new_request_is_answered_and_concluded_with_its_turn_and_its_usage() -> None:
    store, providers, replies = (
        FakeJobStore(),
        ScriptedProviders({"m": ["Hel", "lo"]}),
        SentReplies(),
    )
    event = requested("Say hello")

    await worker(store, providers, CATALOG, replies).handle(event, WAITING)

    [conclusion] = store.concluded
    assert conclusion.succeeded
    assert (conclusion.provider, conclusion.model, conclusion.answer) == ("p", "m", "Hello")
    assert [(row["role"], row["content"]) for row in conclusion.turn] == [
        ("user", "Say hello"),
        ("assistant", "Hello"),
    ]
    assert outcome_kinds(store) == ["usage.recorded", "generation.completed"]
    assert conclusion.always == [True, False]  # the usage stays even if the job was lost
    [reply] = replies.sent  # not streamed: the outcome only, after the conclusion
    assert isinstance(reply, GenerationCompletedV1)
    assert reply.payload.content == "Hello"


async def test_a_streamed_answer_sends_its_first_delta_at_once_and_the_rest_in_the_outcome() -> (
    None
):
    store, replies = FakeJobStore(), SentReplies()
    providers = ScriptedProviders({"m": ["Hel", "lo", " there"]})

    await worker(store, providers, CATALOG, replies).handle(requested("Hi", stream=True), WAITING)

    kinds = [(event.type, getattr(event.payload, "delta", None)) for event in replies.sent]
    assert kinds == [("generation.chunk", "Hel"), ("generation.completed", None)]
    assert replies.sent[-1].payload.content == "Hello there"


async def test_a_nul_a_model_sends_is_streamed_and_stored_as_a_replacement_character() -> None:
    store, replies = FakeJobStore(), SentReplies()
    providers = ScriptedProviders({"m": ["a\x00", "b"]})

    await worker(store, providers, CATALOG, replies).handle(requested("Hi", stream=True), WAITING)

    assert replies.sent[0].payload.delta == "a\ufffd"
    assert store.concluded[0].answer == "a\ufffdb"
    assert store.concluded[0].turn[-1]["content"] == "a\ufffdb"


async def test_a_duplicate_is_neither_answered_nor_concluded_again() -> None:
    store = FakeJobStore(Claimed(Claim.FINISHED, owner=None, history=[], credentials={}))
    providers = ScriptedProviders({"m": ["again"]})

    await worker(store, providers, CATALOG).handle(requested("Hi"), WAITING)

    assert providers.calls == []
    assert store.concluded == []


async def test_a_stream_taken_over_from_a_dead_instance_ends_as_worker_lost() -> None:
    store = FakeJobStore(Claimed(Claim.TAKEN_OVER, owner=None, history=[], credentials={}))
    providers = ScriptedProviders({"m": ["spliced"]})
    replies = SentReplies()

    await worker(store, providers, CATALOG, replies).handle(requested("Hi", stream=True), WAITING)

    assert providers.calls == []
    [failed] = replies.sent
    assert isinstance(failed, GenerationFailedV1)
    assert (failed.payload.error_class, failed.payload.retryable) == ("worker_lost", True)
    assert not store.concluded[0].succeeded
    assert store.concluded[0].turn == []


async def test_another_users_conversation_is_never_continued() -> None:
    stranger = uuid.uuid4()
    store = FakeJobStore(Claimed(Claim.NEW, owner=stranger, history=[], credentials={}))
    providers = ScriptedProviders({"m": ["leak"]})
    event = requested("Go on", conversation_id=uuid.uuid4())

    await worker(store, providers, CATALOG).handle(event, WAITING)

    assert providers.calls == []
    assert outcome_kinds(store) == ["generation.failed"]
    [failed] = store.concluded[0].events
    assert failed.payload.error_class == "conversation_not_found"


async def test_a_provider_failing_before_its_first_token_falls_back_and_only_the_answer_bills() -> (
    None
):
    overloaded = ProviderError("overloaded", "busy", retryable=True)
    providers = ScriptedProviders({"m": [overloaded], "n": ["From", " q"]})
    store = FakeJobStore()

    await worker(store, providers, CATALOG).handle(requested("Hi", fallbacks=[("q", "n")]), WAITING)

    [conclusion] = store.concluded
    assert (conclusion.provider, conclusion.model, conclusion.answer) == ("q", "n", "From q")
    assert conclusion.turn[-1]["metadata"]["fallbacks"] == ["q/n"]
    [usage, _] = conclusion.events
    assert isinstance(usage, UsageRecordedV1)
    assert (usage.payload.provider, usage.payload.model) == ("q", "n")


async def test_a_call_cut_off_after_tokens_is_billed_on_an_estimate_and_never_falls_back() -> None:
    dropped = ProviderError("connection", "reset", retryable=True)
    providers = ScriptedProviders({"m": ["Half an", " answer", dropped], "n": ["other"]})
    store = FakeJobStore()

    await worker(store, providers, CATALOG).handle(requested("Hi", fallbacks=[("q", "n")]), WAITING)

    assert [call.model for call in providers.calls] == ["m"]  # the caller saw m's tokens
    [conclusion] = store.concluded
    assert not conclusion.succeeded
    usage, failed = conclusion.events
    assert isinstance(usage, UsageRecordedV1)
    assert usage.payload.output_tokens > 0
    assert isinstance(failed, GenerationFailedV1)
    assert failed.payload.error_class == "connection"


async def test_the_history_is_trimmed_to_the_context_window_oldest_turns_first() -> None:
    old = [
        ChatMessage(role="user", content="old " * 400),
        ChatMessage(role="assistant", content="x"),
    ]
    recent = [
        ChatMessage(role="user", content="recent"),
        ChatMessage(role="assistant", content="y"),
    ]
    store = FakeJobStore(Claimed(Claim.NEW, owner=None, history=old + recent, credentials={}))
    providers = ScriptedProviders({"m": ["ok"]})
    small = catalog(("p", "m", 600))

    await worker(store, providers, small).handle(requested("now"), WAITING)

    [call] = providers.calls
    assert [m.content for m in call.messages] == ["recent", "y", "now"]


async def test_a_failing_endpoint_opens_its_circuit_and_later_calls_are_not_made() -> None:
    failing = ProviderError("server_error", "500", retryable=True)
    providers = ScriptedProviders({"m": [failing]})
    settings = GenerationSettings(breaker_failures=2, breaker_cooldown_s=60)
    store = FakeJobStore()
    generation = worker(store, providers, CATALOG, settings=settings)

    for _ in range(3):
        await generation.handle(requested("Hi"), WAITING)

    assert len(providers.calls) == 2
    errors = [c.events[-1].payload.error_class for c in store.concluded]
    assert errors == ["server_error", "server_error", "circuit_open"]


def user(content: str) -> ChatMessage:
    return ChatMessage(role="user", content=content)
