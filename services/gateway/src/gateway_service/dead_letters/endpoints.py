"""Administrators: a service's dead letters — listed with why each was set aside and its bytes,
and chosen ones re-driven to their original topic, as the operator's command does
(`python -m assistant_messaging.consuming.dlq`)."""

from typing import Annotated, Literal

from aiokafka.structs import ConsumerRecord
from fastapi import APIRouter, Path, Request

from assistant_messaging.consuming.dlq import (
    DeadLetter,
    NoDeadLetterTopic,
    read_dead_letters,
    redrive,
)
from gateway_service.dead_letters.schemas import DeadLetterOut, RedriveIn, Redriven
from gateway_service.http.dependencies import AdminCaller
from gateway_service.http.error_docs import errors
from gateway_service.http.problems import Problem

router = APIRouter(prefix="/v1/admin/dead-letters", tags=["admin"])

SHOWN_BYTES = 4096
Service = Annotated[
    Literal["gateway", "generation", "notion_sync", "ingestion", "analytics"],
    Path(description="Whose dead letters"),
]


@router.get("/{service}", summary="A service's dead letters, oldest first")
async def list_dead_letters(
    service: Service, _admin: AdminCaller, request: Request
) -> list[DeadLetterOut]:
    return [shown(record) for record in await dead_letters(service, request)]


@router.post(
    "/{service}/redrive",
    summary="Publish chosen dead letters to their original topic again",
    responses=errors(404),
)
async def redrive_dead_letters(
    service: Service, body: RedriveIn, _admin: AdminCaller, request: Request
) -> Redriven:
    found = {(r.partition, r.offset): r for r in await dead_letters(service, request)}
    wanted = [(ref.partition, ref.offset) for ref in body.records]
    missing = [
        f"{partition}:{offset}" for partition, offset in wanted if (partition, offset) not in found
    ]
    if missing:
        raise Problem(
            404, "not-found", "No such dead letter", f"{service} has none at {', '.join(missing)}"
        )
    sent = await redrive(bootstrap_servers(request), [found[key] for key in dict.fromkeys(wanted)])
    return Redriven(redriven=sent)


async def dead_letters(service: str, request: Request) -> list[ConsumerRecord[bytes, bytes]]:
    try:
        return await read_dead_letters(bootstrap_servers(request), service)
    except NoDeadLetterTopic:
        return []  # nothing was ever set aside


def bootstrap_servers(request: Request) -> str:
    servers: str = request.app.state.runtime.settings.kafka_bootstrap_servers
    return servers


def shown(record: ConsumerRecord[bytes, bytes]) -> DeadLetterOut:
    value = record.value or b""
    return DeadLetterOut(
        **DeadLetter.of(record).__dict__,
        size_bytes=len(value),
        value=value[:SHOWN_BYTES].decode("utf-8", errors="replace"),
    )
