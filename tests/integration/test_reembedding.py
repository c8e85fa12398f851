"""A change of embedding model, with search served throughout: `reindex` replays the stored
chunks through the new model (an OpenAI-compatible embeddings server) into a new index while the
running process keeps serving from the old one; processes of the new model then serve from
theirs, and each model's index takes in the chunks the other's processes write. A process whose
model has no index builds one at start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from generation_stack import FakeUpstream, register
from ingestion_stack import IngestionStack, search, settled, start_ingestion_stack, upload

from service_process import ServiceProcess, free_port

LOCAL = "local/all-MiniLM-L6-v2"
REMOTE = "remote/hash-48"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestionStack]:
    yield from start_ingestion_stack(tmp_path_factory.mktemp("blobs"))


def remote_model(upstream: FakeUpstream) -> dict[str, str]:
    return {
        "INGESTION_EMBEDDING_BACKEND": "remote",
        "INGESTION_EMBEDDING_MODEL": "hash-48",
        "INGESTION_EMBEDDING_BASE_URL": f"{upstream.url}/v1",
        "INGESTION_EMBEDDING_API_KEY": "sk-local",
        "INGESTION_EMBEDDING_DIMENSIONS": "48",
        "INGESTION_INDEX_CATCH_UP_S": "1",
    }


def ingestion_command(env: dict[str, str], *arguments: str, check: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ingestion_service", *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 or not check, done.stdout + done.stderr
    return done.stdout


def coverage(env: dict[str, str]) -> dict[str, tuple[str, int, int]]:
    """model → (state, chunks it holds, chunks there are), as `indexes` prints them."""
    found = {}
    for line in ingestion_command(env, "indexes").splitlines():
        model, _, state, held = line.split("\t")
        have, total = held.removesuffix(" chunks").split("/")
        found[model] = (state, int(have), int(total))
    return found


def start_ingestion(stack: IngestionStack, extra: dict[str, str]) -> ServiceProcess:
    port = free_port()
    process = ServiceProcess(
        "ingestion_service", port, {**stack.env, **extra, "INGESTION_HTTP_PORT": str(port)}
    )
    process.wait_ready(120)
    return process


def until(condition: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {condition}"
        time.sleep(0.5)


def test_a_new_model_is_filled_in_beside_the_old_one_and_both_keep_up(
    stack: IngestionStack, upstream: FakeUpstream
) -> None:
    remote = remote_model(upstream)
    ingestion_command(stack.env, "drop-index", REMOTE, check=False)  # left by an earlier run
    tag = uuid.uuid4().hex[:6]
    with stack.client() as http:
        user = register(http)
        aurora = f"Aurora {tag} notes: the northern lights glow green over the fjord at night."
        [first] = upload(http, user, [("aurora.txt", aurora.encode())])
        assert settled(http, user, first["document_id"])["detail"]["embedding_model"] == LOCAL

        # The new model's index is built from the stored chunks by replay, beside the old one.
        rehearsal = ingestion_command({**stack.env, **remote}, "reindex", "--dry-run")
        assert f"dry run, nothing done: {REMOTE} would embed" in rehearsal
        assert REMOTE not in coverage(stack.env)
        report = ingestion_command({**stack.env, **remote}, "reindex")
        assert f"{REMOTE}: ready, 48 dimensions" in report
        indexes = coverage(stack.env)
        total = indexes[LOCAL][2]
        assert total >= 1
        assert indexes[REMOTE] == ("ready", total, total)
        assert indexes[LOCAL] == ("ready", total, total)
        # The running (old-model) process still serves vector search from the old index.
        [best, *_] = search(http, user, "northern lights over the fjord", mode="vector")
        assert best["document_id"] == first["document_id"]

        # Processes of the new model take over and serve from theirs at once.
        stack.ingestion.terminate()
        stack.ingestion = start_ingestion(stack, remote)
        [best, *_] = search(http, user, f"aurora {tag} green lights", mode="vector")
        assert best["document_id"] == first["document_id"]
        tide = f"Tide {tag} table: the harbour floods twice daily under the full moon."
        [second] = upload(http, user, [("tide.txt", tide.encode())])
        assert settled(http, user, second["document_id"])["detail"]["embedding_model"] == REMOTE
        [best, *_] = search(http, user, f"tide {tag} harbour floods", mode="vector")
        assert best["document_id"] == second["document_id"]

        # An old-model process running beside them (a rolling change) catches its index up.
        old = start_ingestion(stack, {"INGESTION_INDEX_CATCH_UP_S": "1"})
        try:

            def old_index_whole() -> bool:
                state, held, total = coverage(stack.env)[LOCAL]
                return (state, held) == ("ready", total)

            until("the old model's index holds the new model's chunks", old_index_whole)
        finally:
            old.terminate()

        # Once no process uses it, a model's index is dropped with its vectors.
        stack.ingestion.terminate()
        assert f"{REMOTE}: dropped" in ingestion_command(stack.env, "drop-index", REMOTE)
        assert REMOTE not in coverage(stack.env)

        # A process whose model has no index builds it at start, from the stored chunks.
        stack.ingestion = start_ingestion(stack, remote)

        def built() -> bool:
            found = coverage(stack.env).get(REMOTE)
            return found is not None and found[:2] == ("ready", found[2])

        until("the new process built its model's index", built)
        [best, *_] = search(http, user, f"aurora {tag} green lights", mode="vector")
        assert best["document_id"] == first["document_id"]
        stack.ingestion.terminate()
        ingestion_command(stack.env, "drop-index", REMOTE)
