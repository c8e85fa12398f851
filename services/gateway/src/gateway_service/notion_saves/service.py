"""Saving generated content to Notion: where it goes, and the request that tracks it.

A save names its parent, or falls back to the caller's default (`notion_config` in their
settings: `default_parent_id`, `default_parent_type`). Without either it is refused here, before
anything is published.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_schemas.generation import NotionTarget
from gateway_service.http.problems import Problem
from gateway_service.models import user_settings

PARENT_TYPES = ("page", "database")


async def resolved_target(
    session: AsyncSession, user_id: uuid.UUID, target: NotionTarget, field: str
) -> NotionTarget:
    """The target with its parent filled from the caller's defaults when it names none."""
    if target.parent_id is not None:
        return target
    config: dict[str, Any] = (
        await session.scalar(
            select(user_settings.c.notion_config).where(user_settings.c.user_id == user_id)
        )
        or {}
    )
    parent_id = config.get("default_parent_id")
    parent_type = config.get("default_parent_type", "page")
    if not isinstance(parent_id, str) or not parent_id or parent_type not in PARENT_TYPES:
        raise Problem(
            422,
            "no-notion-parent",
            "No Notion parent",
            f"{field}.parent_id: name the page or database to save under, or set "
            "settings.notion_config.default_parent_id (and default_parent_type: page or "
            "database) with PATCH /v1/me",
        )
    return NotionTarget(parent_id=parent_id, parent_type=parent_type)
