"""A router's jobs, answers and broadcasts wired to the consumers that receive them.

(Its events in transactions are the `EventConsumer`'s, which the runtime subscribes itself.)
Done at start, once the service has provided its objects: a handler's dependencies are bound
here, so a missing one stops the start instead of failing each message.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from assistant_messaging.consuming.broadcast import BroadcastListener
from assistant_messaging.consuming.dependencies import Provided
from assistant_messaging.consuming.failures import FailureRouter
from assistant_messaging.consuming.jobs import JobAbandoner, JobConsumer, JobHandler, JobSettings
from assistant_messaging.consuming.router import EventRouter
from assistant_messaging.request_reply.responder import Responder
from assistant_runtime.settings import ServiceSettings
from assistant_schemas import Envelope
from assistant_schemas.topics import topic_names

Bound = Mapping[type[Envelope[Any]], Callable[..., Awaitable[Any]]]


def job_consumer(
    router: EventRouter,
    provided: Provided,
    settings: ServiceSettings,
    instance_id: str,
    failures: FailureRouter,
) -> JobConsumer | None:
    """One consumer for every job the router declares (None: it declares none)."""
    if not router.jobs:
        return None
    max_in_flight = getattr(settings, "max_in_flight", None)
    if not isinstance(max_in_flight, int):
        raise TypeError(f"{router.service} has jobs: its settings need `max_in_flight`")
    jobs = {contract: provided.bind(job, 2) for contract, job in router.jobs.items()}
    abandoners = {contract: provided.bind(job, 3) for contract, job in router.abandoners.items()}
    return JobConsumer(
        service=router.service,
        instance_id=instance_id,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=topic_names(*jobs),
        handler=_job_by_contract(jobs),
        abandon=_abandoner_by_contract(abandoners),
        failures=failures,
        settings=JobSettings(
            max_in_flight=max_in_flight, shutdown_grace_s=settings.shutdown_grace_s
        ),
    )


def serve_answers(router: EventRouter, provided: Provided, responder: Responder) -> None:
    for query, answerer in router.answerers.items():
        responder.serve(query, provided.of(answerer))


def broadcast_listener(
    router: EventRouter, provided: Provided, settings: ServiceSettings
) -> BroadcastListener | None:
    if not router.listeners:
        return None
    listeners = {contract: provided.bind(heard, 1) for contract, heard in router.listeners.items()}
    return BroadcastListener(settings.kafka_bootstrap_servers, listeners)


def _job_by_contract(jobs: Bound) -> JobHandler:
    async def handle(event: Envelope[Any], headers: Mapping[str, str]) -> None:
        job = jobs.get(type(event))
        if job is not None:  # else another contract on a job topic: not this service's
            await job(event, headers)

    return handle


def _abandoner_by_contract(abandoners: Bound) -> JobAbandoner:
    async def abandon(event: Envelope[Any], headers: Mapping[str, str], why: str) -> None:
        abandoner = abandoners.get(type(event))
        if abandoner is not None:
            await abandoner(event, headers, why)

    return abandon
