"""Reliable messaging over Kafka: outbox on produce, inbox on consume, retry and dead letter,
and request/reply addressed to the exact requester instance."""
