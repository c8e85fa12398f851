"""Percentiles read back from bucket counts."""

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
