"""Ids of events and requests: UUIDv7, time-ordered.

Each new id sorts after the ones made before it, so the unique indexes that receive them
(every inbox, the usage ledger, request tables) grow at their right edge instead of touching a
random page per insert: once such an index outgrows memory, random ids cost a page read and a
page write each.
"""

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()
