"""Kafka helpers shared by both sides: topics, headers, group membership, tail reads."""
