"""Request/reply round trip: gateway-style Requester → query topic → Responder → reply partition.

Compared in the same run with a raw aiokafka echo over the same broker (a consumer that sends
each request straight back to a reply partition, no contracts, no FastStream).

    python -m bench.request_reply [--requests 2000] [--concurrency 1 20]
"""

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker

from assistant_messaging.producer import DurableProducer
from assistant_messaging.request_reply import Requester, Responder
from assistant_schemas import new_event
from assistant_schemas.queries import (
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultPayload,
    SearchResultV1,
)
from assistant_schemas.topics import REPLIES
from bench.harness import BOOTSTRAP, summary

RAW_REQUESTS = "search.query"  # the same topic and partitions the real queries use


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


async def raw_echo(requests: int, concurrency: int) -> list[float]:
    group = f"raw-echo-{uuid.uuid4().hex[:6]}"
    server_in = AIOKafkaConsumer(
        RAW_REQUESTS, bootstrap_servers=BOOTSTRAP, group_id=group, auto_offset_reset="latest"
    )
    server_out = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    client_out = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    client_in = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    for client in (server_in, server_out, client_out, client_in):
        await client.start()
    reply_partition = TopicPartition(REPLIES, 30)
    client_in.assign([reply_partition])
    await client_in.seek_to_end(reply_partition)
    await client_in.position(reply_partition)
    while not server_in.assignment():
        await server_in.getmany(timeout_ms=100)
    waiting: dict[bytes, asyncio.Future[None]] = {}

    async def serve() -> None:
        async for record in server_in:
            await server_out.send(REPLIES, record.value, partition=30)

    async def receive() -> None:
        async for record in client_in:
            future = waiting.pop(record.value, None)
            if future:
                future.set_result(None)

    tasks = [asyncio.create_task(serve()), asyncio.create_task(receive())]

    async def ask(index: int) -> None:
        body = f"{uuid.uuid4()}".encode()
        waiting[body] = asyncio.get_running_loop().create_future()
        await client_out.send(RAW_REQUESTS, body)
        await waiting[body]

    await asyncio.sleep(1)
    latencies = await timed_rounds(ask, requests, concurrency)
    for task in tasks:
        task.cancel()
    for client in (server_in, server_out, client_out, client_in):
        await client.stop()
    return latencies


async def answer(query: SearchQueryV1) -> SearchResultV1:
    return new_event(
        SearchResultV1,
        SearchResultPayload(hits=[]),
        correlation_id=query.correlation_id,
        producer="bench",
        user_id=query.user_id,
    )


async def system(requests: int, concurrency: int) -> list[float]:
    responder_producer = DurableProducer(BOOTSTRAP, client_id="bench-responder")
    requester_producer = DurableProducer(BOOTSTRAP, client_id="bench-requester")
    broker = KafkaBroker(BOOTSTRAP, logger=None)
    Responder(f"bench_rr_{uuid.uuid4().hex[:6]}", responder_producer).subscribe(
        broker, "search.query", answer
    )
    await responder_producer.start()
    await requester_producer.start()
    await broker.start()
    requester = Requester(bootstrap_servers=BOOTSTRAP, producer=requester_producer, partition=31)
    await requester.start()
    await asyncio.sleep(3)  # the responder's group has formed

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
    await broker.stop()
    await responder_producer.stop()
    await requester_producer.stop()
    return latencies


async def main(requests: int, concurrencies: list[int]) -> None:
    print(f"Request/reply round trip, {requests} requests, broker {BOOTSTRAP}")
    for concurrency in concurrencies:
        raw = await raw_echo(requests, concurrency)
        ours = await system(requests, concurrency)
        print(f"  {concurrency:3d} in flight  raw aiokafka echo : {summary(raw)}   (baseline)")
        print(f"  {concurrency:3d} in flight  Requester/Responder: {summary(ours)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.concurrency))
