"""The Kafka headers every message carries, and those of request/reply and failures: the
names the messaging layer writes and reads, and what each means (the AsyncAPI document is
generated from here)."""

EVENT_ID = "event-id"
EVENT_TYPE = "event-type"
EVENT_VERSION = "event-version"
CORRELATION_ID = "correlation-id"

# Request/reply: where the answer goes and which request it answers.
REPLY_TOPIC = "reply-topic"
REPLY_PARTITION = "reply-partition"
IN_REPLY_TO = "in-reply-to"

# Retry and dead letter: where the message came from and how it failed.
ORIGINAL_TOPIC = "x-original-topic"
ORIGINAL_PARTITION = "x-original-partition"
ORIGINAL_OFFSET = "x-original-offset"
ATTEMPT = "x-attempt"
ERROR = "x-error"
FIRST_FAILURE_AT = "x-first-failure-at"
RETRY_AT = "x-retry-at"
FAILED_IN = "x-failed-in"

ENVELOPE = {
    EVENT_ID: "The envelope's event_id (a UUID): what inboxes deduplicate on.",
    EVENT_TYPE: "The envelope's type, e.g. `generation.requested`.",
    EVENT_VERSION: "The envelope's version of that type.",
    CORRELATION_ID: "The envelope's correlation_id: every event of one user request shares it.",
}
REQUEST_REPLY = {
    REPLY_TOPIC: "A query's: the topic its answer goes to (`gateway.replies`).",
    REPLY_PARTITION: "A query's: the partition of that topic its requester reads.",
    IN_REPLY_TO: "An answer's: the event_id of the query it answers.",
}
FAILURE = {
    ORIGINAL_TOPIC: "The topic the failed message was first consumed from.",
    ORIGINAL_PARTITION: "Its partition there.",
    ORIGINAL_OFFSET: "Its offset there.",
    ATTEMPT: "Attempts made so far, the first included.",
    ERROR: "Why the last attempt failed (a class name and message, or `malformed: ...`).",
    FIRST_FAILURE_AT: "When it first failed (ISO 8601, UTC).",
    RETRY_AT: "A retry record's: not to be handled before this time (ISO 8601, UTC).",
    FAILED_IN: "The service whose consumer failed it.",
}
FAILURE_HEADERS = frozenset(FAILURE)
