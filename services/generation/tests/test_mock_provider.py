"""The mock provider behaves as a model does: `max_tokens` and `stop` are honoured and said."""

from assistant_schemas.generation import ChatMessage, GenerationParameters
from generation_service.providers.base import Delta, Finished, ProviderCall
from generation_service.providers.mock import MockProvider


async def answer(max_tokens: int = 1000, stop: list[str] | None = None) -> tuple[str, Finished]:
    call = ProviderCall(
        model="mock-1",
        messages=[ChatMessage(role="user", content="Say hello")],
        system_prompt=None,
        parameters=GenerationParameters(stop=stop or []),
        max_tokens=max_tokens,
    )
    items = [item async for item in MockProvider(token_delay_s=0).stream(call)]
    finished = items[-1]
    assert isinstance(finished, Finished)
    return "".join(i.text for i in items if isinstance(i, Delta)), finished


async def test_a_whole_answer_says_it_is_a_mock_and_ends_a_sentence() -> None:
    text, finished = await answer()
    assert text.startswith("(mock answer) You asked: “Say hello”.")
    assert text.endswith("without an API key.")
    assert finished.finish_reason == "stop"
    assert finished.usage is not None
    assert finished.usage.output_tokens == len(text.split(" "))


async def test_max_tokens_cuts_the_answer_and_says_length() -> None:
    text, finished = await answer(max_tokens=5)
    assert text == "(mock answer) You asked: “Say hello”."[: len(text)]
    assert len(text.split(" ")) == 5
    assert finished.finish_reason == "length"
    assert finished.usage is not None
    assert finished.usage.output_tokens == 5


async def test_a_stop_sequence_ends_the_answer_before_it() -> None:
    text, finished = await answer(stop=["Kafka", "You asked"])
    assert text == "(mock answer) "
    assert finished.finish_reason == "stop"
    text, _ = await answer(stop=["through Kafka"])
    assert text.endswith("streams this text ")
    assert "Kafka" not in text
