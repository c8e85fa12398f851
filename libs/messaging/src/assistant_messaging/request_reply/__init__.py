"""Request/reply over Kafka: requesters, responders and the replies they exchange."""
