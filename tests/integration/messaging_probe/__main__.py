"""`python -m messaging_probe serve|migrate` — the probe as a separate process.

PROBE_SERVICE names it (consumer group, retry and DLQ topics), PROBE_TOPIC is what it consumes.
"""

import os

from pydantic_settings import SettingsConfigDict

from assistant_runtime.cli import run_cli
from assistant_runtime.service_app import app_factory
from assistant_runtime.settings import ServiceSettings
from messaging_probe.probe import definition, probe_topic


class ProbeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROBE_", extra="ignore")


probe = definition(
    os.environ.get("PROBE_SERVICE", "probe"),
    probe_topic(os.environ.get("PROBE_TOPIC", "probe.events")),
)
run_cli(probe, ProbeSettings, app_factory(probe))
