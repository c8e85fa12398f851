"""Notion saves: pages/s and API calls/s against the local Notion server, its rate limit on.

The local Notion (`assistant_fakes.notion`) admits at most `--rate` calls (Notion's average:
3) in any second per integration token and answers `429` past that, so the rate is the physical
ceiling. `--pages` saves for one connection (the worst case: one token for everything) go
through notion_sync — `notion.page.requested` on Kafka, the jobs consumer, checkpoints in
PostgreSQL, the real notion-client — each a document of 150 blocks: a create carrying the first
100 and an append of the rest.
Baselines of the same run: (a) the allowed rate itself; (b) the same documents written
directly with notion-client and the same pacer (no Kafka, no database). Reported: calls/s from
the first call to the last as Notion admitted them, pages/s, saves failed and calls refused.

    python -m bench.notion_pages [--pages 30] [--rate 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
import uuid
from typing import Any

import uvicorn
from assistant_fakes.notion import FakeNotion
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant_db import create_engine
from assistant_messaging.publishing.direct import publish_directly
from assistant_runtime.credentials_cipher import CredentialCipher, fingerprint
from assistant_schemas import Envelope, new_event
from assistant_schemas.credentials import CredentialsUpdatedPayload, CredentialsUpdatedV1
from assistant_schemas.notion import NotionPageRequestedPayload, NotionPageRequestedV1
from assistant_stack.cli import environment
from bench.harness import BOOTSTRAP, DATABASE_URL, PROFILE, free_port, serve_until_ready
from notion_sync_service.markdown.blocks import to_blocks
from notion_sync_service.markdown.plan import plan
from notion_sync_service.notion_api import PacedClient
from notion_sync_service.pacing import Pacer
from notion_sync_service.settings import NotionSyncSettings
from notion_sync_service.writer import DocumentWriter


def document(index: int) -> str:
    paragraphs = "\n\n".join(f"Paragraph {p} of note {index}, a line or two." for p in range(149))
    return f"# Note {index}\n\n{paragraphs}\n"


def start_notion(rate: float) -> tuple[FakeNotion, str]:
    fake = FakeNotion()
    fake.state.rate_per_s = rate
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return fake, f"http://127.0.0.1:{port}"


def calls_per_second(fake: FakeNotion, token: str) -> tuple[int, float]:
    """(calls, calls/s): the calls over the seconds they took, the last second counted whole
    (the rate limit counts calls per second, so that is the time they used of it)."""
    times = [moment for who, moment in fake.state.admitted if who == token]
    return len(times), len(times) / (max(times) - min(times) + 1.0)


async def direct(fake: FakeNotion, url: str, token: str, pages: int, rate: float) -> float:
    """Writes the documents with notion-client and the pacer alone; returns pages/s."""
    client = PacedClient(token, Pacer(rate), NotionSyncSettings(api_base_url=url))
    parent = {"type": "page_id", "page_id": fake.add_page()}
    began = time.perf_counter()
    for index in range(pages):
        appends = plan(to_blocks(document(index)))
        page = await client.pages.create(
            parent=parent,
            properties={"title": {"title": [{"text": {"content": f"Note {index}"}}]}},
            children=appends[0].blocks,
        )
        await DocumentWriter(client, page["id"]).write(appends, start=1)
    await client.aclose()
    return pages / (time.perf_counter() - began)


async def through_notion_sync(
    fake: FakeNotion, key: str, token: str, pages: int
) -> tuple[float, int]:
    """Saves the documents through notion_sync; returns (pages/s, saves failed)."""
    user = uuid.uuid4()
    connect = new_event(
        CredentialsUpdatedV1,
        CredentialsUpdatedPayload(
            provider="notion",
            action="set",
            ciphertext=CredentialCipher(key).encrypt(token),
            fingerprint=fingerprint(token),
        ),
        correlation_id="bench",
        producer="bench",
        user_id=user,
    )
    engine = create_engine(DATABASE_URL, pool_size=1)
    await publish_directly(BOOTSTRAP, [connect])
    connected = "SELECT count(*) FROM notion_sync.notion_connections WHERE user_id = :u"
    await _wait_for(engine, connected, user, 1)
    parent = fake.add_page()
    requests: list[Envelope[Any]] = [
        new_event(
            NotionPageRequestedV1,
            NotionPageRequestedPayload(
                request_id=uuid.uuid4(), markdown=document(i), parent_id=parent
            ),
            correlation_id="bench",
            producer="bench",
            user_id=user,
        )
        for i in range(pages)
    ]
    began = time.perf_counter()
    await publish_directly(BOOTSTRAP, requests)
    finished = "SELECT count(*) FROM notion_sync.notion_pages WHERE user_id = :u"
    await _wait_for(engine, finished + " AND status <> 'writing'", user, pages)
    elapsed = time.perf_counter() - began
    failed = await _scalar(engine, finished + " AND status = 'failed'", user)
    await engine.dispose()
    return pages / elapsed, failed


async def _scalar(engine: AsyncEngine, sql: str, user: uuid.UUID) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(sql), {"u": user}) or 0)


async def _wait_for(engine: AsyncEngine, sql: str, user: uuid.UUID, count: int) -> None:
    while True:
        if await _scalar(engine, sql, user) >= count:
            return
        await asyncio.sleep(0.1)


def main(pages: int, rate: float) -> None:
    fake, url = start_notion(rate)
    key = CredentialCipher.generate_key()
    direct_token, system_token = "secret_bench_direct_" + "x" * 20, "secret_bench_sync_" + "y" * 20
    fake.state.tokens |= {direct_token, system_token}
    port = free_port()
    env = {
        **os.environ,
        **environment(PROFILE),
        "CREDENTIALS_KEYS": key,
        "NOTION_SYNC_HTTP_PORT": str(port),
        "NOTION_SYNC_LOG_LEVEL": "WARNING",
        "NOTION_SYNC_API_BASE_URL": url,
        "NOTION_SYNC_RATE_PER_S": str(rate),
    }
    calls_each = len(plan(to_blocks(document(0))))  # the first append goes with the create
    print(
        f"Notion saves: {pages} pages of 150 blocks ({calls_each} calls each), one token, "
        f"the local Notion admitting {rate:g} calls/s"
    )
    direct_pages = asyncio.run(direct(fake, url, direct_token, pages, rate))
    direct_calls, direct_rate = calls_per_second(fake, direct_token)
    sync = serve_until_ready(
        [sys.executable, "-m", "notion_sync_service", "serve"],
        f"http://127.0.0.1:{port}/readyz",
        env=env,
    )
    try:
        system_pages, failed = asyncio.run(through_notion_sync(fake, key, system_token, pages))
    finally:
        sync.terminate()
        sync.wait(30)
    system_calls, system_rate = calls_per_second(fake, system_token)
    print(f"    (a) allowed rate                    {rate:6.2f} calls/s  (the ceiling)")
    print(
        f"    (b) notion-client + pacer, direct   {direct_rate:6.2f} calls/s  "
        f"{direct_pages:5.2f} pages/s  ({direct_rate / rate:.1%} of the ceiling)"
    )
    print(
        f"    (c) through notion_sync             {system_rate:6.2f} calls/s  "
        f"{system_pages:5.2f} pages/s  ({system_rate / rate:.1%} of the ceiling, "
        f"{system_rate / direct_rate:.1%} of direct)"
    )
    print(
        f"    calls: {direct_calls} direct, {system_calls} through notion_sync; saves failed: "
        f"{failed}; calls refused with 429: {fake.state.refused}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rate", type=float, default=3.0)
    options = parser.parse_args()
    main(options.pages, options.rate)
