"""Prometheus metrics of usage. Labels are provider, model and kind only (never a user id);
a model without a price is labelled `other`, so a producer inventing names cannot grow the
label set without bound."""

from collections import Counter as Counter_
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from analytics_service.ledger import ModelTotals
from assistant_schemas.usage import UsageRecordedV1

TOKENS = Counter(
    "usage_tokens_total", "Tokens recorded in the ledger", ["provider", "model", "kind"]
)
EVENTS = Counter("usage_events_ingested_total", "Usage events recorded", ["usage_type"])
UNPRICED = Counter("usage_unpriced_total", "Usage recorded without a known price", ["provider"])
COST = Counter("usage_cost_usd_total", "Cost of recorded usage (USD)", ["provider", "model"])
LATENCY = Histogram(
    "usage_call_latency_seconds",
    "Latency of billed calls, as reported by their producers",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
LAG = Gauge(
    "usage_ingest_lag_seconds", "Age of the newest usage event of the last batch when recorded"
)
TOKEN_KINDS = ("input", "output", "cached", "reasoning", "embedding")


def observe(events: Sequence[UsageRecordedV1], models: Sequence[ModelTotals]) -> None:
    """Counts a recorded batch: sums first, then one increment per label set."""
    priced = {(m.provider, m.model) for m in models if not m.unpriced_events}
    tokens: Counter_[tuple[str, str, str]] = Counter_()
    kinds: Counter_[str] = Counter_()
    unpriced: Counter_[str] = Counter_()
    for event in events:
        p = event.payload
        model = p.model if (p.provider, p.model) in priced else "other"
        kinds[p.usage_type] += 1
        for kind in TOKEN_KINDS:
            tokens[p.provider, model, kind] += getattr(p, f"{kind}_tokens")
        if model == "other":
            unpriced[p.provider] += 1
        if p.latency_ms is not None:
            LATENCY.labels(p.provider).observe(p.latency_ms / 1000)
    for usage_type, count in kinds.items():
        EVENTS.labels(usage_type).inc(count)
    for (provider, model, kind), count in tokens.items():
        if count:
            TOKENS.labels(provider, model, kind).inc(count)
    for provider, count in unpriced.items():
        UNPRICED.labels(provider).inc(count)
    for totals in models:
        if (totals.provider, totals.model) in priced:
            COST.labels(totals.provider, totals.model).inc(float(totals.cost_usd))
    if events:
        newest = max(event.occurred_at for event in events)
        LAG.set((datetime.now(UTC) - newest).total_seconds())
