"""Serving a service's app: one process, or several listening on one port.

Each worker process is a whole instance of the service — its own consumers in the group, its
own outbox relay (active, or standing by), its own reply partition — so a worker is what a
second container would be, without a second port. One Python process uses one core; the
gateway's request handling is CPU-bound, so on a machine with cores to spare several workers
serve more requests.
"""

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

import uvicorn
from fastapi import FastAPI

from assistant_runtime.http import SHARED_METRICS
from assistant_runtime.logging import configure_logging
from assistant_runtime.settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
OWN_METRICS_DIR = "assistant-metrics-"


def serve(name: str, create_app: Callable[[SettingsT], FastAPI], settings: SettingsT) -> None:
    """Runs until stopped; `name` is the service's, for the workers' logs."""
    if settings.http_workers == 1:
        _run(create_app(settings), settings, sockets=None)
        return
    if SHARED_METRICS not in os.environ:
        _restart_with_shared_metrics()
    _clear_shared_metrics()
    # Forked before any event loop, thread or connection exists; each worker builds its own app.
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=_worker,
            args=(name, create_app, settings, number, os.getpid()),
            name=f"worker-{number}",
        )
        for number in range(1, settings.http_workers + 1)
    ]
    for worker in workers:
        worker.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A worker that dies takes the others down: the supervisor (compose, systemd, Kubernetes)
    # restarts the whole service, instead of it serving on with less capacity than configured.
    multiprocessing.connection.wait([worker.sentinel for worker in workers])
    stop(signal.SIGTERM, None)
    for worker in workers:
        worker.join()
    _remove_shared_metrics()
    sys.exit(1 if any(worker.exitcode for worker in workers) else 0)


def _restart_with_shared_metrics() -> NoReturn:
    """Starts this process again with a directory for the workers' metric values, so that
    /metrics, whichever worker answers it, adds up all of theirs: prometheus-client decides
    where values live when it is first imported, long before this point."""
    os.environ[SHARED_METRICS] = tempfile.mkdtemp(prefix=OWN_METRICS_DIR)
    os.execv(sys.executable, sys.orig_argv)  # noqa: S606 - this very command, again


def _clear_shared_metrics() -> None:
    """Values left by an earlier run would be added to this one's."""
    for leftover in Path(os.environ[SHARED_METRICS]).glob("*.db"):
        leftover.unlink()


def _remove_shared_metrics() -> None:
    """On the way out: the values, and the directory if this process made it."""
    _clear_shared_metrics()
    directory = Path(os.environ[SHARED_METRICS])
    if directory.name.startswith(OWN_METRICS_DIR):
        directory.rmdir()


def _worker(
    name: str,
    create_app: Callable[[SettingsT], FastAPI],
    settings: SettingsT,
    number: int,
    parent: int,
) -> None:
    _stop_with_parent(parent)
    # uvicorn shuts down gracefully on these, then raises them again for the handler it found.
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.signal(signal.SIGINT, _exit_quietly)
    own = settings.model_copy(update={"instance_id": f"{settings.instance_id}-{number}"})
    configure_logging(name, own.log_level, own.instance_id)
    _run(create_app(own), own, sockets=[_own_socket(own)])


def _stop_with_parent(parent: int) -> None:
    """Asks the kernel for SIGTERM when the parent dies, even by SIGKILL: a worker must not
    serve on, orphaned, beside the instance its supervisor starts in its place."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the request was made
        raise SystemExit(0)


def _exit_quietly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _own_socket(settings: ServiceSettings) -> socket.socket:
    """A listening socket of this worker's on the shared port. The kernel spreads new
    connections over the workers' sockets (SO_REUSEPORT); one socket shared by all would hand
    most of a burst of connections to whichever worker happened to be waiting in accept."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind((settings.http_host, settings.http_port))
    return listening


def _run(app: FastAPI, settings: ServiceSettings, sockets: list[socket.socket] | None) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        # Nothing reads a client's address (limits are per user, logs name no client): the
        # middleware that would take it from a proxy's X-Forwarded-For only costs each request.
        proxy_headers=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) + 5,
    )
    uvicorn.Server(config).run(sockets=sockets)
