"""Prometheus metrics of usage. Labels are provider, model and kind only (never a user id);
a model without a price is labelled `other`, so a producer inventing names cannot grow the
label set without bound."""

from collections import defaultdict
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
    "usage_ingest_lag_seconds",
    "Age of the newest usage event of the last batch when recorded",
    multiprocess_mode="livemax",  # with several workers: the one furthest behind
)
TOKEN_KINDS = ("input", "output", "cached", "reasoning", "embedding")


def observe(events: Sequence[UsageRecordedV1], models: Sequence[ModelTotals]) -> None:
    """Counts a recorded batch from its per-model totals; only latencies are per event."""
    for totals in models:
        priced = not totals.unpriced_events
        model = totals.model if priced else "other"
        EVENTS.labels(totals.usage_type).inc(totals.events)
        for kind in TOKEN_KINDS:
            count = getattr(totals, f"{kind}_tokens")
            if count:
                TOKENS.labels(totals.provider, model, kind).inc(count)
        if priced:
            COST.labels(totals.provider, totals.model).inc(float(totals.cost_usd))
        else:
            UNPRICED.labels(totals.provider).inc(totals.unpriced_events)
    latencies: defaultdict[str, list[float]] = defaultdict(list)
    for event in events:
        if event.payload.latency_ms is not None:
            latencies[event.payload.provider].append(event.payload.latency_ms / 1000)
    for provider, seconds in latencies.items():
        histogram = LATENCY.labels(provider)
        for value in seconds:
            histogram.observe(value)
    if events:
        newest = max(event.occurred_at for event in events)
        LAG.set((datetime.now(UTC) - newest).total_seconds())
