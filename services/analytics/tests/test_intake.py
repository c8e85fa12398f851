"""Usage the ledger refuses, with a reason a person can act on."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics_service.intake import check
from assistant_messaging.consuming.failures import PermanentFailure
from assistant_schemas import new_event
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(user: uuid.UUID | None = None, moment: datetime = NOW, **usage: int) -> UsageRecordedV1:
    payload = UsageRecordedPayload(
        request_id=uuid.uuid4(), usage_type="llm", provider="openai", model="gpt-5", **usage
    )
    built = new_event(
        UsageRecordedV1, payload, correlation_id="c", producer="t", user_id=user or uuid.uuid4()
    )
    return built.model_copy(update={"occurred_at": moment})


def test_plausible_usage_passes() -> None:
    check(event(input_tokens=1000, output_tokens=200, cached_tokens=500), NOW)
    check(event(moment=NOW + timedelta(minutes=4)), NOW)  # within clock skew


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (event().model_copy(update={"user_id": None}), "names no user_id"),
        (event(moment=NOW + timedelta(hours=1)), "in the future"),
        (event(moment=NOW - timedelta(days=500)), "older than 400 days"),
        (event(input_tokens=9_000_000, output_tokens=2_000_000), "beyond any model"),
        (event(input_tokens=10, cached_tokens=11), "cached_tokens 11 exceed input_tokens 10"),
    ],
)
def test_impossible_usage_is_refused_with_its_reason(bad: UsageRecordedV1, reason: str) -> None:
    with pytest.raises(PermanentFailure, match=reason):
        check(bad, NOW)
