"""A local server speaking Notion's API (version 2022-06-28 shapes) for tests and benchmarks.

It keeps pages and blocks in memory and enforces the limits Notion documents, answering with
Notion's error objects: at most 100 children per array and 100 rich text items per block,
2,000 characters per text item, two levels of nesting per request, 1,000 block elements and
500 KB per request, and (when `rate_per_s` is set) `429 rate_limited` with `Retry-After` past
that many requests per second per token. `overloaded` answers the next N requests with `529`.

    python -m assistant_fakes.notion --port 8790 --token secret_test
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_CHILDREN = 100
MAX_RICH_TEXT = 100
MAX_TEXT = 2000
MAX_ELEMENTS = 1000
MAX_BYTES = 500_000
MAX_DEPTH = 2  # the blocks of a request and their children


class NotionError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class FakeNotionState:
    tokens: set[str] = field(default_factory=set)
    rate_per_s: float | None = None
    overloaded: int = 0
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → block (no children)
    children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (token, method, path)
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


class FakeNotion:
    def __init__(self, tokens: set[str] | None = None) -> None:
        self.state = FakeNotionState(tokens=set(tokens or ()))
        self.app = Starlette(
            routes=[
                Route("/v1/users/me", self.me, methods=["GET"]),
                Route("/v1/pages", self.create_page, methods=["POST"]),
                Route("/v1/blocks/{block_id}/children", self.append, methods=["PATCH"]),
                Route("/v1/blocks/{block_id}/children", self.list_children, methods=["GET"]),
            ]
        )

    def add_page(self) -> str:
        """A page shared with the integration, for pages to be created under."""
        return self._store({"type": "page", "page": {}})

    # --- endpoints ---------------------------------------------------------------------------

    async def me(self, request: Request) -> JSONResponse:
        return await self._answer(
            request,
            lambda _body: {"object": "user", "type": "bot", "name": "Local integration", "bot": {}},
        )

    async def create_page(self, request: Request) -> JSONResponse:
        def create(body: dict[str, Any]) -> dict[str, Any]:
            parent = body.get("parent") or {}
            parent_id = parent.get("page_id") or parent.get("database_id")
            if parent_id not in self.state.blocks and not parent.get("workspace"):
                raise NotionError(404, "object_not_found", f"Could not find page {parent_id}.")
            children = body.get("children", [])
            self._check_request(children, "body.children")
            page_id = self._store({"object": "page", "type": "page", "page": {}})
            self.state.blocks[page_id].update(properties=body.get("properties", {}))
            self._add_children(page_id, children)
            return {
                "object": "page",
                "id": page_id,
                "url": f"https://www.notion.so/{page_id.replace('-', '')}",
                "properties": body.get("properties", {}),
            }

        return await self._answer(request, create)

    async def append(self, request: Request) -> JSONResponse:
        block_id = request.path_params["block_id"]

        def append(body: dict[str, Any]) -> dict[str, Any]:
            if block_id not in self.state.blocks:
                raise NotionError(404, "object_not_found", f"Could not find block {block_id}.")
            children = body.get("children")
            if not isinstance(children, list):
                raise NotionError(400, "validation_error", "body.children should be an array.")
            self._check_request(children, "body.children")
            created = self._add_children(block_id, children)
            return {"object": "list", "results": [self._public(i) for i in created]}

        return await self._answer(request, append)

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

    async def _answer(self, request: Request, handle: Any) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.state.calls.append((token, request.method, request.url.path))
        try:
            if token not in self.state.tokens:
                raise NotionError(401, "unauthorized", "API token is invalid.")
            self.state.admit(token)
            raw = await request.body()
            if len(raw) > MAX_BYTES:
                raise NotionError(413, "payload_too_large", "Request body too large.")
            return JSONResponse(handle(json.loads(raw) if raw else {}))
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

    def _check_request(self, children: list[Any], where: str) -> None:
        elements = self._check_blocks(children, where, depth=1)
        if elements > MAX_ELEMENTS:
            raise NotionError(
                400, "validation_error", f"{where} has {elements} block elements (max 1000)."
            )

    def _check_blocks(self, blocks: list[Any], where: str, depth: int) -> int:
        if len(blocks) > MAX_CHILDREN:
            raise NotionError(
                400,
                "validation_error",
                f"{where}.length should be ≤ `{MAX_CHILDREN}`, instead was `{len(blocks)}`.",
            )
        elements = 0
        for index, item in enumerate(blocks):
            path = f"{where}[{index}]"
            kind = item.get("type")
            content = item.get(kind) if isinstance(kind, str) else None
            if not isinstance(content, dict):
                raise NotionError(400, "validation_error", f"{path} has no `{kind}` object.")
            self._check_rich_text(content.get("rich_text", []), f"{path}.{kind}.rich_text")
            for cell_index, cell in enumerate(content.get("cells", [])):
                self._check_rich_text(cell, f"{path}.{kind}.cells[{cell_index}]")
            elements += 1
            nested = content.get("children")
            if nested:
                if depth >= MAX_DEPTH:
                    raise NotionError(
                        400,
                        "validation_error",
                        f"{path}.{kind}.children: only two levels of nesting per request.",
                    )
                elements += self._check_blocks(nested, f"{path}.{kind}.children", depth + 1)
        return elements

    @staticmethod
    def _check_rich_text(items: list[Any], where: str) -> None:
        if len(items) > MAX_RICH_TEXT:
            raise NotionError(
                400,
                "validation_error",
                f"{where}.length should be ≤ `{MAX_RICH_TEXT}`, instead was `{len(items)}`.",
            )
        for index, item in enumerate(items):
            text = (item.get("text") or {}).get("content", "")
            if len(text) > MAX_TEXT:
                raise NotionError(
                    400,
                    "validation_error",
                    f"{where}[{index}].text.content.length should be ≤ `{MAX_TEXT}`, "
                    f"instead was `{len(text)}`.",
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

    def _public(self, block_id: str) -> dict[str, Any]:
        stored = self.state.blocks[block_id]
        return {
            "object": "block",
            **{k: v for k, v in stored.items() if k != "properties"},
            "has_children": bool(self.state.children.get(block_id)),
        }


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
