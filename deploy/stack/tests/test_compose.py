"""docker-compose.yml cannot run here (no Docker engine); this keeps it consistent with the
local stack: the same services, the same variable names, official images, ordered start-up."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant_runtime.settings import ServiceSettings
from assistant_stack.profiles import SERVICES

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_it_names_every_service_and_the_infrastructure(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*SERVICES, "kafka", "postgres", "init"}


def test_infrastructure_comes_from_the_official_images(compose: dict[str, Any]) -> None:
    kafka, postgres = compose["services"]["kafka"], compose["services"]["postgres"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft mode"
    assert postgres["image"].startswith("pgvector/pgvector:")
    assert "healthcheck" in kafka
    assert "healthcheck" in postgres


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_its_module_with_the_local_variable_names(
    compose: dict[str, Any], service: str
) -> None:
    spec = compose["services"][service]
    assert spec["command"] == ["python", "-m", f"{service}_service", "serve"]
    environment = spec["environment"]
    shared = {
        field.validation_alias
        for field in ServiceSettings.model_fields.values()
        if isinstance(field.validation_alias, str)
    }
    assert shared == {
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "CREDENTIALS_KEYS",
        "OUTBOUND_ALLOWED_NETWORKS",
        "OUTBOUND_ALLOW_HTTP",
    }
    assert shared <= set(environment)
    port = environment[f"{service.upper()}_HTTP_PORT"]
    assert environment["PROBE_URL"] == f"http://127.0.0.1:{port}/readyz"
    assert environment[f"{service.upper()}_HTTP_HOST"] == "0.0.0.0"
    assert spec["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in spec


def test_the_init_job_creates_topics_and_migrates_from_the_code(compose: dict[str, Any]) -> None:
    assert compose["services"]["init"]["command"] == ["python", "-m", "assistant_stack", "init"]
