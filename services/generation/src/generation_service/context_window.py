"""Fitting a conversation into a model's context window: the oldest turns go first.

The system prompt and the new turn are always kept; earlier messages are kept newest first
while the estimate of everything, plus the room reserved for the answer, still fits.
"""

from assistant_schemas.generation import ChatMessage
from assistant_schemas.token_estimate import estimate_message_tokens, estimate_prompt_tokens


def fit_history(
    history: list[ChatMessage],
    new_turn: list[ChatMessage],
    system_prompt: str | None,
    *,
    context_window: int,
    reserved_for_answer: int,
) -> list[ChatMessage]:
    budget = context_window - reserved_for_answer
    budget -= estimate_prompt_tokens((m.content for m in new_turn), system_prompt)
    kept: list[ChatMessage] = []
    for message in reversed(history):
        budget -= estimate_message_tokens(message.content)
        if budget < 0:
            break
        kept.append(message)
    kept.reverse()
    # A history must not open with an answer whose question was cut off.
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return kept + new_turn
