"""Routing a message that failed: to the service's retry topic with a growing delay, and after
the last attempt to its dead-letter topic, with headers saying where it came from and why."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from prometheus_client import Counter

from assistant_messaging.consuming.log_limits import ThrottledLog
from assistant_messaging.kafka import headers as h
from assistant_messaging.publishing.producer import Publisher
from assistant_schemas.topics import dead_letter_topic, is_retry_topic, retry_topic

log = ThrottledLog(__name__)  # a burst of poison messages is one line a second, counted

RETRIED = Counter("messages_retried_total", "Messages sent to a retry topic", ["service", "topic"])
DEAD_LETTERED = Counter(
    "messages_dead_lettered_total", "Messages sent to a dead-letter topic", ["service", "topic"]
)

MAX_ERROR_LENGTH = 2000


def failure_reason(error: BaseException) -> str:
    """How a failure is named in `x-error`, logs and readiness: its type and message."""
    return f"{type(error).__name__}: {error}"


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the message goes straight to the DLQ."""


class RetryLater(Exception):
    """Raised by a job handler when the outside world asked it to wait (a `429` with
    `Retry-After`, an overload): the message goes to the retry topic, due after `after_s` (or
    the policy's delay when None), and the partition moves on meanwhile."""

    def __init__(self, message: str, after_s: float | None = None) -> None:
        super().__init__(message)
        self.after_s = after_s


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` counts every try, the first included; delays grow geometrically."""

    max_attempts: int = 4
    base_delay_s: float = 1.0
    multiplier: float = 4.0
    max_delay_s: float = 60.0

    def delay_after(self, attempt: int) -> float:
        return float(min(self.base_delay_s * self.multiplier ** (attempt - 1), self.max_delay_s))


@dataclass(frozen=True)
class Origin:
    """Where a record first came from, and how many times it has been tried.

    Only a retry topic's records carry an origin of their own: the failure headers of a record
    on any other topic are whatever its producer wrote, and are ignored. A retry record whose
    headers cannot be read has `malformed` set (why); it belongs to no consumer's topics, and
    the retry topic's event consumer dead-letters it."""

    topic: str
    partition: int
    offset: int
    attempts: int
    first_failure_at: str | None
    retry_at: float | None
    malformed: str | None = None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> Origin:
        if not is_retry_topic(record.topic):  # a first delivery, the common case
            return cls(record.topic, record.partition, record.offset, 0, None, None)
        found = h.to_dict(record.headers)
        try:
            return cls(
                topic=found[h.ORIGINAL_TOPIC],
                partition=int(found[h.ORIGINAL_PARTITION]),
                offset=int(found[h.ORIGINAL_OFFSET]),
                attempts=max(0, int(found[h.ATTEMPT])),
                first_failure_at=found.get(h.FIRST_FAILURE_AT),
                retry_at=_finite(found[h.RETRY_AT]) if h.RETRY_AT in found else None,
            )
        except KeyError as missing:
            reason = f"retry record without its {missing} header"
        except ValueError as error:
            reason = f"retry record with a malformed header: {error}"
        return cls(record.topic, record.partition, record.offset, 0, None, None, reason)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a time")
    return value


@dataclass(frozen=True)
class Failure:
    record: ConsumerRecord[bytes, bytes]
    origin: Origin
    error: str
    permanent: bool
    retry_after_s: float | None = None  # overrides the policy's delay, when the cause said


class FailureRouter:
    def __init__(self, service: str, producer: Publisher, policy: RetryPolicy) -> None:
        self.service = service
        self.producer = producer
        self.policy = policy

    def is_final(self, failure: Failure) -> bool:
        """Whether `failure` goes to the dead-letter topic (no attempt follows)."""
        return failure.permanent or failure.origin.attempts + 1 >= self.policy.max_attempts

    async def route(self, failure: Failure) -> None:
        attempt = failure.origin.attempts + 1
        dead = self.is_final(failure)
        destination = dead_letter_topic(self.service) if dead else retry_topic(self.service)
        failure_headers = {
            h.ORIGINAL_TOPIC: failure.origin.topic,
            h.ORIGINAL_PARTITION: str(failure.origin.partition),
            h.ORIGINAL_OFFSET: str(failure.origin.offset),
            h.ATTEMPT: str(attempt),
            h.ERROR: failure.error[:MAX_ERROR_LENGTH],
            h.FIRST_FAILURE_AT: failure.origin.first_failure_at or datetime.now(UTC).isoformat(),
            h.FAILED_IN: self.service,
        }
        if not dead:
            delay = failure.retry_after_s
            if delay is None:
                delay = self.policy.delay_after(attempt)
            failure_headers[h.RETRY_AT] = str(time.time() + delay)
        kept = {
            k: v for k, v in h.to_dict(failure.record.headers).items() if k not in h.FAILURE_HEADERS
        }
        await self.producer.send_and_wait(
            destination,
            value=failure.record.value,
            key=failure.record.key,
            headers=h.to_kafka({**kept, **failure_headers}),
        )
        (DEAD_LETTERED if dead else RETRIED).labels(self.service, failure.origin.topic).inc()
        log.warning(
            "message dead-lettered" if dead else "message scheduled for retry",
            topic=failure.origin.topic,
            offset=failure.origin.offset,
            attempt=attempt,
            error=failure.error[:500],
        )
