"""What a credential must look like, per provider. Messages never repeat the secret."""

import re
from dataclasses import dataclass

CUSTOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class ProviderRule:
    prefixes: tuple[str, ...]
    min_length: int
    base_url: str  # "forbidden", "optional" or "required"


KNOWN_PROVIDERS = {
    "openai": ProviderRule(("sk-",), 20, "optional"),
    "anthropic": ProviderRule(("sk-ant-",), 20, "optional"),
    "deepseek": ProviderRule(("sk-",), 20, "optional"),
    "notion": ProviderRule(("secret_", "ntn_"), 20, "forbidden"),
}
# Any other name is a provider an administrator registered in the model catalogue (an
# OpenAI-compatible server such as Ollama, vLLM or LM Studio): the catalogue has its base URL,
# which a user's own base_url overrides.
OPENAI_COMPATIBLE = ProviderRule((), 1, "optional")


def rule_for(provider: str) -> ProviderRule | None:
    if provider in KNOWN_PROVIDERS:
        return KNOWN_PROVIDERS[provider]
    return OPENAI_COMPATIBLE if CUSTOM_NAME.match(provider) else None


def problems(provider: str, api_key: str, base_url: str | None) -> list[tuple[str, str, str]]:
    """(field, rule, message) for each way the credential breaks its provider's rule."""
    rule = rule_for(provider)
    if rule is None:
        return [
            (
                "provider",
                "unknown_provider",
                "use openai, anthropic, deepseek, notion, or a lower-case name of 2 to 41 "
                "letters, digits, '-' or '_' for an OpenAI-compatible server",
            )
        ]
    found = []
    if rule.prefixes and not api_key.startswith(rule.prefixes):
        found.append(
            ("api_key", "key_prefix", f"a {provider} key starts with {' or '.join(rule.prefixes)}")
        )
    if len(api_key) < rule.min_length:
        found.append(
            ("api_key", "key_length", f"a {provider} key has at least {rule.min_length} characters")
        )
    if any(c.isspace() for c in api_key):
        found.append(("api_key", "key_whitespace", "a key contains no spaces or line breaks"))
    if rule.base_url == "required" and not base_url:
        found.append(("base_url", "required", "an OpenAI-compatible server needs its base_url"))
    if rule.base_url == "forbidden" and base_url:
        found.append(("base_url", "not_allowed", f"{provider} takes no base_url"))
    return found
