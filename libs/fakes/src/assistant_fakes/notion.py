"""A local server speaking Notion's API (2025-09-03 shapes) for tests and benchmarks.

It keeps pages, blocks, databases and their data sources in memory — users/me, pages (create
under a page or a data source, properties checked against the schema), block children (append,
list), databases and data sources (retrieve) and search (pages by title) — and enforces the
limits Notion documents (`assistant_fakes.notion_limits`, counted as Notion counts), answering
with Notion's error objects, 500 KB per request, and (when `rate_per_s` is set)
`429 rate_limited` with `Retry-After` past that many requests in any second per token.
`overloaded` answers the next N requests with `529`. `create_delay_s` and `append_delay_s` hold
an answer after the write is done, so a client can die between Notion's write and its answer.

    python -m assistant_fakes.notion --port 8790 --token secret_test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from assistant_fakes.notion_limits import MAX_BYTES, NotionError, check_request


@dataclass
class FakeNotionState:
    tokens: set[str] = field(default_factory=set)
    rate_per_s: float | None = None
    overloaded: int = 0
    create_delay_s: float = 0.0
    append_delay_s: float = 0.0
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → block (no children)
    children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (token, method, path)
    admitted: list[tuple[str, float]] = field(default_factory=list)  # (token, monotonic time)
    refused: int = 0
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def admit(self, token: str) -> None:
        if self.overloaded:
            self.overloaded -= 1
            raise NotionError(529, "service_unavailable", "Notion is overloaded.")
        if self.rate_per_s is None:
            return
        now, recent = time.monotonic(), self._recent[token]
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.rate_per_s:
            self.refused += 1
            raise NotionError(429, "rate_limited", "You have been rate limited.")
        recent.append(now)
        self.admitted.append((token, now))


class FakeNotion:
    def __init__(self, tokens: set[str] | None = None) -> None:
        self.state = FakeNotionState(tokens=set(tokens or ()))
        self.sources: dict[str, dict[str, Any]] = {}  # data source id → its database and schema
        self.app = Starlette(
            routes=[
                Route("/v1/users/me", self.me, methods=["GET"]),
                Route("/v1/pages", self.create_page, methods=["POST"]),
                Route("/v1/pages/{page_id}", self.retrieve_page, methods=["GET"]),
                Route("/v1/databases/{database_id}", self.retrieve_database, methods=["GET"]),
                Route("/v1/data_sources/{source_id}", self.retrieve_source, methods=["GET"]),
                Route("/v1/search", self.search, methods=["POST"]),
                Route("/v1/blocks/{block_id}/children", self.append, methods=["PATCH"]),
                Route("/v1/blocks/{block_id}/children", self.list_children, methods=["GET"]),
            ]
        )

    def add_page(self) -> str:
        """A page shared with the integration, for pages to be created under."""
        return self._store({"type": "page", "page": {}})

    def add_database(self, properties: dict[str, str]) -> str:
        """A database shared with the integration, with one data source whose properties are
        {name: type}; returns the database id."""
        source_id = str(uuid.uuid4())
        schema = {
            name: {"id": name.lower()[:4], "name": name, "type": kind, kind: {}}
            for name, kind in properties.items()
        }
        database_id = self._store({"type": "database", "database": {}, "source_id": source_id})
        self.sources[source_id] = {"database_id": database_id, "properties": schema}
        return database_id

    def pages(self) -> list[dict[str, Any]]:
        """Every page created through the API, oldest first."""
        return [self._page(i) for i, b in self.state.blocks.items() if b.get("created_by")]

    @staticmethod
    def bot_id(token: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"notion-bot:{token}"))

    # --- endpoints ---------------------------------------------------------------------------

    async def me(self, request: Request) -> JSONResponse:
        token = _token(request)
        return await self._answer(
            request,
            lambda _body: {
                "object": "user",
                "id": self.bot_id(token),
                "type": "bot",
                "name": "Local integration",
                "bot": {},
            },
        )

    async def create_page(self, request: Request) -> JSONResponse:
        token = _token(request)

        def create(body: dict[str, Any]) -> dict[str, Any]:
            parent = body.get("parent") or {}
            properties = body.get("properties") or {}
            if "data_source_id" in parent:
                source = self.sources.get(parent["data_source_id"])
                if source is None:
                    raise NotionError(
                        404,
                        "object_not_found",
                        f"Could not find data source {parent['data_source_id']}.",
                    )
                self._check_properties(properties, source["properties"])
                parent = {**parent, "database_id": source["database_id"]}
            else:
                parent_id = str(parent.get("page_id"))
                if self.state.blocks.get(parent_id, {}).get("type") != "page":
                    raise NotionError(404, "object_not_found", f"Could not find page {parent_id}.")
                if set(properties) - {"title"}:
                    raise NotionError(
                        400,
                        "validation_error",
                        "Only `title` is a valid property for a page whose parent is a page.",
                    )
            children = body.get("children", [])
            check_request(children, "body.children")
            page_id = self._store({"type": "page", "page": {}})
            minute = datetime.now(UTC).replace(second=0, microsecond=0)
            self.state.blocks[page_id].update(
                properties=_with_plain_text(properties),
                parent=parent,
                created_by={"object": "user", "id": self.bot_id(token)},
                created_time=minute.isoformat().replace("+00:00", ".000Z"),
            )
            self._add_children(page_id, children)
            return self._page(page_id)

        return await self._answer(request, create, delay_s=self.state.create_delay_s)

    async def retrieve_page(self, request: Request) -> JSONResponse:
        page_id = request.path_params["page_id"]

        def retrieve(_body: dict[str, Any]) -> dict[str, Any]:
            if not self.state.blocks.get(page_id, {}).get("created_by"):
                raise NotionError(404, "object_not_found", f"Could not find page {page_id}.")
            return self._page(page_id)

        return await self._answer(request, retrieve)

    async def retrieve_database(self, request: Request) -> JSONResponse:
        database_id = request.path_params["database_id"]

        def retrieve(_body: dict[str, Any]) -> dict[str, Any]:
            database = self.state.blocks.get(database_id, {})
            if database.get("type") != "database":
                raise NotionError(
                    404, "object_not_found", f"Could not find database {database_id}."
                )
            source = {"id": database["source_id"], "name": "Default"}
            return {"object": "database", "id": database_id, "data_sources": [source]}

        return await self._answer(request, retrieve)

    async def retrieve_source(self, request: Request) -> JSONResponse:
        source_id = request.path_params["source_id"]

        def retrieve(_body: dict[str, Any]) -> dict[str, Any]:
            source = self.sources.get(source_id)
            if source is None:
                raise NotionError(
                    404, "object_not_found", f"Could not find data source {source_id}."
                )
            return {
                "object": "data_source",
                "id": source_id,
                "parent": {"type": "database_id", "database_id": source["database_id"]},
                "properties": source["properties"],
            }

        return await self._answer(request, retrieve)

    async def search(self, request: Request) -> JSONResponse:
        def search(body: dict[str, Any]) -> dict[str, Any]:
            query = str(body.get("query", "")).lower()
            wanted = (body.get("filter") or {}).get("value", "page")
            if wanted != "page":
                return {"object": "list", "results": [], "has_more": False, "next_cursor": None}
            found = [p for p in self.pages() if query in _title(p).lower()]
            found.sort(key=lambda p: p["created_time"], reverse=True)
            size = min(int(body.get("page_size", 100)), 100)
            start = int(body.get("start_cursor") or 0)
            more = start + size < len(found)
            return {
                "object": "list",
                "results": found[start : start + size],
                "has_more": more,
                "next_cursor": str(start + size) if more else None,
            }

        return await self._answer(request, search)

    async def append(self, request: Request) -> JSONResponse:
        block_id = request.path_params["block_id"]

        def append(body: dict[str, Any]) -> dict[str, Any]:
            if block_id not in self.state.blocks:
                raise NotionError(404, "object_not_found", f"Could not find block {block_id}.")
            children = body.get("children")
            if not isinstance(children, list):
                raise NotionError(400, "validation_error", "body.children should be an array.")
            check_request(children, "body.children")
            created = self._add_children(block_id, children)
            return {"object": "list", "results": [self._public(i) for i in created]}

        return await self._answer(request, append, delay_s=self.state.append_delay_s)

    async def list_children(self, request: Request) -> JSONResponse:
        block_id = request.path_params["block_id"]

        def page(_body: dict[str, Any]) -> dict[str, Any]:
            if block_id not in self.state.blocks:
                raise NotionError(404, "object_not_found", f"Could not find block {block_id}.")
            size = min(int(request.query_params.get("page_size", 100)), 100)
            start = int(request.query_params.get("start_cursor") or 0)
            ids = self.state.children[block_id]
            chunk = ids[start : start + size]
            more = start + size < len(ids)
            return {
                "object": "list",
                "results": [self._public(i) for i in chunk],
                "has_more": more,
                "next_cursor": str(start + size) if more else None,
            }

        return await self._answer(request, page)

    # --- plumbing ----------------------------------------------------------------------------

    async def _answer(self, request: Request, handle: Any, delay_s: float = 0.0) -> JSONResponse:
        token = _token(request)
        self.state.calls.append((token, request.method, request.url.path))
        try:
            if token not in self.state.tokens:
                raise NotionError(401, "unauthorized", "API token is invalid.")
            self.state.admit(token)
            raw = await request.body()
            if len(raw) > MAX_BYTES:
                raise NotionError(413, "payload_too_large", "Request body too large.")
            answer = handle(json.loads(raw) if raw else {})
            if delay_s:
                await asyncio.sleep(delay_s)  # written already: a client may die before the answer
            return JSONResponse(answer)
        except NotionError as error:
            headers = {"Retry-After": "1"} if error.status == 429 else {}
            return JSONResponse(
                {
                    "object": "error",
                    "status": error.status,
                    "code": error.code,
                    "message": error.message,
                },
                status_code=error.status,
                headers=headers,
            )

    @staticmethod
    def _check_properties(properties: dict[str, Any], schema: dict[str, Any]) -> None:
        for name, value in properties.items():
            spec = schema.get(name)
            if spec is None:
                raise NotionError(400, "validation_error", f"{name} is not a property that exists.")
            if spec["type"] not in value:
                raise NotionError(
                    400,
                    "validation_error",
                    f"{name} is expected to be {spec['type']}.",
                )

    def _store(self, item: dict[str, Any]) -> str:
        block_id = str(uuid.uuid4())
        self.state.blocks[block_id] = {k: v for k, v in item.items() if k != "object"} | {
            "id": block_id
        }
        return block_id

    def _add_children(self, parent: str, items: list[dict[str, Any]]) -> list[str]:
        created = []
        for item in items:
            kind = item["type"]
            content = {k: v for k, v in item[kind].items() if k != "children"}
            block_id = self._store({"type": kind, kind: content})
            self.state.children[parent].append(block_id)
            self._add_children(block_id, item[kind].get("children", []))
            created.append(block_id)
        return created

    def _page(self, page_id: str) -> dict[str, Any]:
        stored = self.state.blocks[page_id]
        return {
            "object": "page",
            "id": page_id,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
            "parent": stored["parent"],
            "properties": stored["properties"],
            "created_by": stored["created_by"],
            "created_time": stored["created_time"],
            "archived": False,
        }

    def _public(self, block_id: str) -> dict[str, Any]:
        stored = self.state.blocks[block_id]
        return {
            "object": "block",
            **{k: v for k, v in stored.items() if k != "properties"},
            "has_children": bool(self.state.children.get(block_id)),
        }


def _token(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def _with_plain_text(properties: dict[str, Any]) -> dict[str, Any]:
    """Properties as Notion returns them: typed, rich text with its `plain_text`."""
    out: dict[str, Any] = {}
    for name, value in properties.items():
        kind = next(iter(value))
        content = value[kind]
        if kind in ("title", "rich_text"):
            content = [{**item, "plain_text": item["text"]["content"]} for item in content]
        out[name] = {"id": name.lower()[:4], "type": kind, kind: content}
    return out


def _title(page: dict[str, Any]) -> str:
    for value in page["properties"].values():
        if value["type"] == "title":
            return "".join(item["plain_text"] for item in value["title"])
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--rate-per-s", type=float, default=3.0)
    options = parser.parse_args()
    fake = FakeNotion(set(options.token))
    fake.state.rate_per_s = options.rate_per_s
    uvicorn.run(fake.app, port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
