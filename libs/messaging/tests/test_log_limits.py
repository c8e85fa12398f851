"""Error storms write a line a second per kind of line, counting what they held back."""

import pytest
from structlog.testing import capture_logs

from assistant_messaging.consuming.log_limits import ThrottledLog


def test_a_storm_is_one_line_a_second_with_the_count_held_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("assistant_messaging.consuming.log_limits.time.monotonic", lambda: clock[0])
    log = ThrottledLog("storm")
    with capture_logs() as lines:
        for _ in range(500):  # 500 failures within the same second
            log.error("job failed", error="boom")
        log.warning("another kind", n=1)  # its own budget
        clock[0] += 1.0
        log.error("job failed", error="boom")
    assert [(line["event"], line.get("suppressed")) for line in lines] == [
        ("job failed", None),
        ("another kind", None),
        ("job failed", 499),
    ]
