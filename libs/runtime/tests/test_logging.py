import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from assistant_messaging.consuming.log_context import HANDLED_EVENT
from assistant_runtime.logging import configure_logging
from assistant_schemas import new_event
from assistant_schemas.accounts import AccountDeletedPayload, AccountDeletedV1


@pytest.fixture
def caplog_configured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    configure_logging("probe")
    yield caplog
    structlog.reset_defaults()


def last_line(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """The fields of the last line, as the services' processors left them for the renderer."""
    fields = caplog.records[-1].msg
    assert isinstance(fields, dict)
    return fields


def test_a_line_logged_while_an_event_is_handled_carries_its_ids(
    caplog_configured: pytest.LogCaptureFixture,
) -> None:
    user_id = uuid.uuid4()
    event = new_event(
        AccountDeletedV1,
        AccountDeletedPayload(reason="user_request"),
        correlation_id="req-7",
        producer="gateway",
        user_id=user_id,
    )
    log = structlog.get_logger("probe")

    handling = HANDLED_EVENT.set(event)
    try:
        log.info("handled", event_id="named by the line")
        inside = last_line(caplog_configured)
    finally:
        HANDLED_EVENT.reset(handling)
    log.info("after")
    after = last_line(caplog_configured)

    assert inside["event_id"] == "named by the line"
    assert inside["correlation_id"] == "req-7"
    assert inside["user_id"] == str(user_id)
    assert inside["service"] == "probe"
    assert "correlation_id" not in after
    assert "user_id" not in after
