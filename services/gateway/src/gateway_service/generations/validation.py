"""Checking a generation against the catalogue before anything is published or billed."""

from assistant_schemas.catalog import CatalogResultPayload, ModelInfo
from assistant_schemas.generation import ChatMessage
from assistant_schemas.token_estimate import estimate_prompt_tokens
from gateway_service.catalog.service import find_model
from gateway_service.http.problems import invalid


def checked_model(
    catalog: CatalogResultPayload, provider: str, model: str, field: str
) -> ModelInfo:
    found = find_model(catalog, provider, model)
    if found is None:
        known = ", ".join(sorted(f"{m.provider}/{m.model}" for m in catalog.models if m.enabled))
        raise invalid(
            field, "unknown_model", f"{provider}/{model} is not in the catalogue (known: {known})"
        )
    return found[1]


def parsed_fallbacks(catalog: CatalogResultPayload, names: list[str]) -> list[tuple[str, str]]:
    chain = []
    for position, name in enumerate(names):
        provider, slash, model = name.partition("/")
        if not slash:
            raise invalid(f"fallbacks.{position}", "format", f'"{name}" is not "provider/model"')
        checked_model(catalog, provider, model, f"fallbacks.{position}")
        chain.append((provider, model))
    return chain


def check_fits(
    model: ModelInfo, messages: list[ChatMessage], system_prompt: str | None, max_tokens: int | None
) -> None:
    """The new turn alone (history is trimmed to fit) must leave room for the answer."""
    if max_tokens is not None and max_tokens > model.max_output_tokens:
        raise invalid(
            "max_tokens",
            "max_output",
            f"{model.model} answers at most {model.max_output_tokens} tokens",
        )
    answer = model.answer_tokens(max_tokens)
    prompt = estimate_prompt_tokens((m.content for m in messages), system_prompt)
    if prompt + answer > model.context_window:
        raise invalid(
            "messages",
            "context_window",
            f"the prompt (about {prompt} tokens) plus {answer} tokens for the answer exceeds "
            f"{model.model}'s context window of {model.context_window} tokens",
        )
