"""Request/reply round trip: gateway-style Requester → query topic → Responder → reply partition.

Compared in the same run with a raw aiokafka echo over the same broker (a consumer that sends
each request straight back to a reply partition, no contracts, no FastStream). As deployed, the
asking side (the gateway) and the answering side (a service) are separate processes, in the
baseline too.

    python -m bench.request_reply [--requests 2000] [--concurrency 1 20]
"""

import argparse
import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Event

import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from assistant_messaging.publishing.producer import DurableProducer
from assistant_messaging.request_reply.requester import Requester
from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import new_event
from assistant_schemas.queries import (
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultPayload,
    SearchResultV1,
)
from assistant_schemas.topics import REPLIES, topic_of
from bench.harness import BOOTSTRAP, summary

QUERIES = topic_of(SearchQueryV1).name  # the same topic and partitions the real queries use
RAW_REPLY_PARTITION = 30
REPLY_PARTITION = 31


async def timed_rounds(
    ask: Callable[[int], Awaitable[None]], requests: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            await ask(index)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


# --- the answering process ----------------------------------------------------------------------


def run_answering(kind: str, ready: Event) -> None:
    """Entry point of the answering process: serves until terminated."""
    serve = raw_echo_server if kind == "raw" else responder
    uvloop.run(serve(ready))


async def raw_echo_server(ready: Event) -> None:
    requests = AIOKafkaConsumer(
        QUERIES,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"raw-echo-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
    )
    replies = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    await requests.start()
    await replies.start()
    while not requests.assignment():
        await requests.getmany(timeout_ms=100)
    ready.set()
    async for record in requests:
        await replies.send(REPLIES, record.value, partition=RAW_REPLY_PARTITION)


async def answer(query: SearchQueryV1) -> SearchResultV1:
    return new_event(
        SearchResultV1,
        SearchResultPayload(hits=[]),
        correlation_id=query.correlation_id,
        producer="bench",
        user_id=query.user_id,
    )


async def responder(ready: Event) -> None:
    producer = DurableProducer(BOOTSTRAP, client_id="bench-responder")
    service = f"bench_rr_{uuid.uuid4().hex[:6]}"
    responder = Responder(service, producer, bootstrap_servers=BOOTSTRAP)
    responder.serve(SearchQueryV1, answer)
    await producer.start()
    await responder.start()
    await asyncio.sleep(3)  # the responder's group has formed
    ready.set()
    await asyncio.Event().wait()


# --- the asking process -------------------------------------------------------------------------


async def raw_echo(requests: int, concurrency: int) -> list[float]:
    client_out = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    client_in = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    await client_out.start()
    await client_in.start()
    reply_partition = TopicPartition(REPLIES, RAW_REPLY_PARTITION)
    client_in.assign([reply_partition])
    await client_in.seek_to_end(reply_partition)
    await client_in.position(reply_partition)
    waiting: dict[bytes, asyncio.Future[None]] = {}

    async def receive() -> None:
        async for record in client_in:
            future = waiting.pop(record.value, None)
            if future:
                future.set_result(None)

    receiving = asyncio.create_task(receive())

    async def ask(index: int) -> None:
        body = f"{uuid.uuid4()}".encode()
        waiting[body] = asyncio.get_running_loop().create_future()
        await client_out.send(QUERIES, body)
        await waiting[body]

    latencies = await timed_rounds(ask, requests, concurrency)
    receiving.cancel()
    await client_out.stop()
    await client_in.stop()
    return latencies


async def system(requests: int, concurrency: int) -> list[float]:
    producer = DurableProducer(BOOTSTRAP, client_id="bench-requester")
    await producer.start()
    requester = Requester(bootstrap_servers=BOOTSTRAP, producer=producer, partition=REPLY_PARTITION)
    await requester.start()

    async def ask(index: int) -> None:
        query = new_event(
            SearchQueryV1,
            SearchQueryPayload(query=f"q{index}"),
            correlation_id=str(index),
            producer="bench",
            user_id=uuid.uuid4(),
        )
        reply = await requester.ask(query, timeout=10)
        assert isinstance(reply, SearchResultV1)

    latencies = await timed_rounds(ask, requests, concurrency)
    await requester.stop()
    await producer.stop()
    return latencies


async def against(kind: str, requests: int, concurrency: int) -> list[float]:
    """Round trips of `requests` asked `concurrency` at a time, answered by a `kind` process."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    answering = context.Process(target=run_answering, args=(kind, ready))
    answering.start()
    try:
        await asyncio.to_thread(ready.wait)
        ask = raw_echo if kind == "raw" else system
        return await ask(requests, concurrency)
    finally:
        answering.terminate()
        answering.join()


async def main(requests: int, concurrencies: list[int]) -> None:
    print(f"Request/reply round trip, {requests} requests, broker {BOOTSTRAP}")
    for concurrency in concurrencies:
        raw = await against("raw", requests, concurrency)
        ours = await against("system", requests, concurrency)
        print(f"  {concurrency:3d} in flight  raw aiokafka echo : {summary(raw)}   (baseline)")
        print(f"  {concurrency:3d} in flight  Requester/Responder: {summary(ours)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    arguments = parser.parse_args()
    uvloop.run(main(arguments.requests, arguments.concurrency))
