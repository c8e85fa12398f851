"""Versioned event contracts shared by every service, and the registry of topics they travel on."""

from assistant_schemas.envelope import ContractError, Envelope, new_event
from assistant_schemas.registry import decode_event, event_class, event_classes

__all__ = ["ContractError", "Envelope", "decode_event", "event_class", "event_classes", "new_event"]
