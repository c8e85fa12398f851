"""Latencies counted per bucket (in SQL) and percentiles read back from the counts."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics_service.latency import BOUNDS_MS, percentile


def counts(**by_bucket: int) -> list[int]:
    found = [0] * len(BOUNDS_MS)
    for index, count in by_bucket.items():
        found[int(index.removeprefix("b"))] = count
    return found


def test_no_latency_counted_has_no_percentile() -> None:
    assert percentile([0] * len(BOUNDS_MS), 0.5) is None


def test_the_median_interpolates_inside_its_bucket() -> None:
    # 10 calls in [100, 150) ms: the median is halfway through that bucket.
    assert percentile(counts(b7=10), 0.5) == 125


def test_p95_lands_in_the_slow_tail() -> None:
    histogram = counts(b1=90, b13=10)  # 90 calls in [5, 10) ms, 10 in [1000, 1500) ms
    p50, p95 = percentile(histogram, 0.5), percentile(histogram, 0.95)
    assert p50 is not None
    assert 5 <= p50 < 10
    assert p95 == 1250


@pytest.mark.stack
async def test_the_sql_histogram_has_the_same_buckets(connection: AsyncConnection) -> None:
    # One latency at each lower edge, and one just below the next: each lands in its bucket.
    latencies = [float(edge) for edge in BOUNDS_MS] + [edge - 0.001 for edge in BOUNDS_MS[1:]]
    histogram = await connection.scalar(
        text("SELECT analytics.latency_histogram(CAST(:latencies AS float8[]))"),
        {"latencies": [*latencies, None]},
    )
    assert histogram == [2] * (len(BOUNDS_MS) - 1) + [1]
