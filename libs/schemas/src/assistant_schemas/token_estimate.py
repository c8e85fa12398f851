"""A tokenizer-free token count, the same wherever limits are checked.

Exact counts need each provider's tokenizer (and tiktoken downloads its tables at run time),
so limits are checked against an estimate: about four characters per token in English prose,
which over-counts most code and under-counts some scripts. Providers report the exact usage.
"""

from collections.abc import Iterable

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4  # role and separators a chat format adds to every message


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_message_tokens(text: str) -> int:
    return estimate_tokens(text) + MESSAGE_OVERHEAD


def estimate_prompt_tokens(contents: Iterable[str], system_prompt: str | None) -> int:
    """Messages (their contents) and the system prompt, as a provider would count them."""
    total = sum(estimate_message_tokens(content) for content in contents)
    return total + (estimate_message_tokens(system_prompt) if system_prompt else 0)
