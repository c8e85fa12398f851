"""What the ledger refuses: usage that cannot be true or cannot be attributed.

A refused event goes to the dead-letter topic with the reason (its neighbours in the batch are
recorded). Usage of a model with no known price is not refused: it is recorded with an unknown
cost and counted as unpriced, never silently as zero.
"""

from datetime import UTC, datetime, timedelta

from assistant_messaging.consuming.failures import PermanentFailure
from assistant_schemas.usage import UsageRecordedV1

CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=400)  # older usage than this is no longer billable or reportable
MAX_TOKENS_PER_CALL = 10_000_000  # five times the largest context window on the market


def check(event: UsageRecordedV1, now: datetime | None = None) -> None:
    """Raises PermanentFailure naming the rule an event breaks."""
    now = now or datetime.now(UTC)
    if event.user_id is None:
        raise PermanentFailure("usage.recorded names no user_id: usage must belong to someone")
    if event.occurred_at > now + CLOCK_SKEW:
        raise PermanentFailure(
            f"occurred_at {event.occurred_at.isoformat()} is in the future "
            f"(more than {CLOCK_SKEW} ahead of this clock)"
        )
    if event.occurred_at < now - MAX_AGE:
        raise PermanentFailure(
            f"occurred_at {event.occurred_at.isoformat()} is older than {MAX_AGE.days} days"
        )
    p = event.payload
    tokens = p.input_tokens + p.output_tokens + p.embedding_tokens
    if tokens > MAX_TOKENS_PER_CALL:
        raise PermanentFailure(
            f"{tokens} tokens in one call is beyond any model (limit {MAX_TOKENS_PER_CALL})"
        )
    if p.cached_tokens > p.input_tokens:
        raise PermanentFailure(
            f"cached_tokens {p.cached_tokens} exceed input_tokens {p.input_tokens}"
        )
