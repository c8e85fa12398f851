"""Putting events on Kafka: the outbox, its relay, the producer."""
