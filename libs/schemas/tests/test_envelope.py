import json
import uuid
from datetime import datetime

import pytest
from pydantic import ValidationError

from assistant_schemas import ContractError, decode_event, event_class, new_event
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1


def usage() -> UsageRecordedV1:
    return new_event(
        UsageRecordedV1,
        UsageRecordedPayload(
            request_id=uuid.uuid4(),
            usage_type="llm",
            provider="openai",
            model="gpt-4o-mini",
            input_tokens=3,
        ),
        correlation_id="req-1",
        producer="generation",
        user_id=uuid.uuid4(),
    )


def test_new_event_stamps_type_version_id_and_time() -> None:
    event = usage()
    assert (event.type, event.version) == ("usage.recorded", 1)
    assert event.occurred_at.tzinfo is not None
    assert event.event_id != usage().event_id


def test_an_event_round_trips_through_its_bytes() -> None:
    event = usage()
    decoded = decode_event(event.to_json())
    assert isinstance(decoded, UsageRecordedV1)
    assert decoded == event


def test_decoding_names_every_broken_field() -> None:
    document = json.loads(usage().to_json())
    document["payload"]["input_tokens"] = -1
    del document["payload"]["provider"]
    with pytest.raises(ContractError) as raised:
        decode_event(json.dumps(document).encode())
    assert "payload.input_tokens: Input should be greater than or equal to 0" in raised.value.reason
    assert "payload.provider: Field required" in raised.value.reason


def test_unknown_fields_are_a_contract_violation() -> None:
    document = json.loads(usage().to_json())
    document["payload"]["surprise"] = True
    with pytest.raises(ContractError, match=r"payload\.surprise: Extra inputs"):
        decode_event(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"version": 1}', "type: field required"),
        (b'{"type": "usage.recorded"}', "version: field required"),
        (b'{"type": "usage.recorded", "version": true}', "version: field required"),
        (b'{"type": "usage.recorded", "version": 7}', "unknown version 7 of 'usage.recorded'"),
        (b'{"type": "nothing.here", "version": 1}', "unknown event type 'nothing.here'"),
    ],
)
def test_undecodable_messages_say_why(body: bytes, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        decode_event(body)


def test_a_null_record_is_a_contract_error() -> None:
    """A Kafka tombstone (a record with no value) is something any producer can send."""
    with pytest.raises(ContractError, match="no value"):
        decode_event(None)


def test_text_with_a_nul_character_is_a_contract_error() -> None:
    document = json.loads(usage().to_json())
    document["payload"]["model"] = "gpt\x00mini"
    with pytest.raises(ContractError, match="NUL character"):
        decode_event(json.dumps(document).encode())


def test_an_escaped_backslash_before_u0000_is_plain_text() -> None:
    event = new_event(
        UsageRecordedV1,
        usage().payload.model_copy(update={"model": "a\\u0000b"}),
        correlation_id="req-1",
        producer="generation",
    )
    assert b"\\u0000" in event.to_json()
    assert decode_event(event.to_json()).payload.model == "a\\u0000b"


def test_a_contract_pins_its_type_and_version() -> None:
    event = usage()
    with pytest.raises(ValidationError):
        UsageRecordedV1.model_validate({**event.model_dump(), "type": "usage.other"})
    assert event_class("usage.recorded", 1) is UsageRecordedV1


def test_events_are_immutable_and_need_aware_times() -> None:
    event = usage()
    with pytest.raises(ValidationError):
        event.correlation_id = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="timezone"):
        UsageRecordedV1.model_validate({**event.model_dump(), "occurred_at": datetime(2026, 1, 1)})
