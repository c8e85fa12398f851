"""structlog JSON logs for the service and for every library logging through stdlib."""

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog

from assistant_messaging.consuming.log_context import add_handled_event

SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "authorization", "ciphertext")


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Belt and braces: a field whose name says secret is never written, whatever its value."""
    for key in event_dict:
        if any(word in key.lower() for word in SECRET_WORDS):
            event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(service: str, level: str = "INFO", instance: str | None = None) -> None:
    shared: list[structlog.types.Processor] = [
        add_handled_event,  # before the context variables: the event's ids win over theirs
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        # Level first: a filtered-out call must not pay for the rest of the chain.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _route_everything_to(root)
    # Access logs carry query strings; the gateway logs requests itself.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service, instance=instance)


def _route_everything_to(root: logging.Logger) -> None:
    """One JSON stream: libraries that bring their own handlers (FastStream prints coloured text
    to stderr), Python's warnings and uncaught exceptions all go through the root's."""
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger.handlers:
            logger.handlers.clear()
            logger.propagate = True
    logging.captureWarnings(True)

    def log_uncaught(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        root.critical("uncaught exception", exc_info=(kind, error, trace))

    sys.excepthook = log_uncaught
    threading.excepthook = lambda hook: root.critical(
        "uncaught exception in a thread",
        exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback),  # type: ignore[arg-type]
        extra={"thread": hook.thread.name if hook.thread else None},
    )
