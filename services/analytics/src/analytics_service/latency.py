"""Latency percentiles that can be kept incrementally: counts per fixed bucket.

A rollup row keeps how many calls fell in each bucket; buckets add up across rows and days,
and a percentile is read back by interpolating inside the bucket that holds it. The bucket
edges are also in the SQL function `analytics.latency_histogram` (migration 0004).
"""

from collections.abc import Sequence

# Lower edges in milliseconds; bucket i holds [BOUNDS_MS[i], BOUNDS_MS[i + 1]).
BOUNDS_MS: tuple[float, ...] = (
    0, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750,
    1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 60_000,
)  # fmt: skip


def percentile(counts: Sequence[int], p: float) -> int | None:
    """The p-th quantile (0 < p <= 1) of the latencies counted, in whole milliseconds (finer
    would claim a precision the histogram does not have); None if none were."""
    total = sum(counts)
    if total == 0:
        return None
    wanted = p * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= wanted:
            low = BOUNDS_MS[index]
            high = BOUNDS_MS[index + 1] if index + 1 < len(BOUNDS_MS) else low * 2
            return round(low + (high - low) * (wanted - seen) / count)
        seen += count
    return round(BOUNDS_MS[-1])
