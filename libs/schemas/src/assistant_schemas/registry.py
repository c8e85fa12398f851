"""Every contract the system speaks, and decoding raw bytes into the right one."""

from collections import Counter
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import from_json

from assistant_schemas import (
    accounts,
    budget,
    catalog,
    credentials,
    documents,
    generation,
    notion,
    queries,
    usage,
)
from assistant_schemas.envelope import ContractError, Envelope

_MODULES = (
    accounts,
    generation,
    notion,
    documents,
    credentials,
    usage,
    budget,
    queries,
    catalog,
)


def _collect() -> dict[tuple[str, int], type[Envelope[Any]]]:
    found: dict[tuple[str, int], type[Envelope[Any]]] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Envelope) and hasattr(value, "TYPE"):
                found[(value.TYPE, value.VERSION)] = value
    return found


_CONTRACTS = _collect()


def event_classes() -> list[type[Envelope[Any]]]:
    """All contracts, ordered by type then version."""
    return [_CONTRACTS[key] for key in sorted(_CONTRACTS)]


def event_class(event_type: str, version: int) -> type[Envelope[Any]]:
    try:
        return _CONTRACTS[(event_type, version)]
    except KeyError:
        known = sorted(v for (t, v) in _CONTRACTS if t == event_type)
        if known:
            raise ContractError(
                f"version: unknown version {version} of {event_type!r} (known: {known})"
            ) from None
        raise ContractError(f"type: unknown event type {event_type!r}") from None


def _single_version_union() -> TypeAdapter[Envelope[Any]]:
    """Every contract whose type has one version, told apart by `type` inside the JSON parser:
    one pass over the bytes, about half the time of parsing and then validating."""
    versions = Counter(event_type for event_type, _ in _CONTRACTS)
    single = tuple(c for (t, _), c in _CONTRACTS.items() if versions[t] == 1)
    union: Any = Annotated[Union[single], Field(discriminator="type")]  # noqa: UP007
    return TypeAdapter(union)


_FAST = _single_version_union()


def decode_event(raw: bytes | None) -> Envelope[Any]:
    """Parses and validates a message body; `ContractError` names what is wrong.

    Whatever a producer sent — a null value (a Kafka tombstone), bytes that are not JSON, text
    with a NUL character — ends in a `ContractError`, never another exception: a consumer
    dead-letters the record with the reason instead of failing on it again and again."""
    if not isinstance(raw, bytes):
        raise ContractError("<message>: no value (a null record, such as a Kafka tombstone)")
    if _NUL_ESCAPE in raw:  # rare: only then is the document parsed to look closer
        _refuse_nul(raw)
    try:
        return _FAST.validate_json(raw)
    except ValidationError:
        return _decode_and_explain(raw)  # another version, or invalid: the precise reason


_NUL_ESCAPE = b"\\u0000"


def _refuse_nul(raw: bytes) -> None:
    """PostgreSQL's text cannot hold NUL: every store of such an event would fail."""
    try:
        document = from_json(raw)
    except ValueError:
        return  # not JSON: explained by the decoding that follows
    if _holds_nul(document):
        raise ContractError("<message>: a string holds a NUL character (\\u0000)")


def _holds_nul(value: object) -> bool:
    """Whether a parsed JSON value holds NUL in any string (the byte search above can be
    fooled by an escaped backslash followed by `u0000`)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _decode_and_explain(raw: bytes) -> Envelope[Any]:
    try:
        document = from_json(raw)  # pydantic's parser: several times faster than json's
    except ValueError as error:
        raise ContractError(f"<message>: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ContractError("<message>: must be a JSON object")
    event_type, version = document.get("type"), document.get("version")
    if not isinstance(event_type, str):
        raise ContractError("type: field required (a string)")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ContractError("version: field required (an integer)")
    model = event_class(event_type, version)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ContractError.from_validation(error) from None
