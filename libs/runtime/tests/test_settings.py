import pytest
from pydantic_settings import SettingsConfigDict

from assistant_runtime.cli import load_settings
from assistant_runtime.logging import redact_secrets
from assistant_runtime.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore")


def test_shared_infrastructure_names_are_unprefixed_and_the_rest_prefixed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/app")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("EXAMPLE_HTTP_PORT", "9100")
    settings = ExampleSettings()
    assert settings.database_url == "postgresql://u:p@db:5432/app"
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert settings.http_port == 9100


def test_log_level_is_shared_unless_a_service_sets_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ExampleSettings().log_level == "INFO"
    monkeypatch.setenv("LOG_LEVEL", "warning")  # what docker-compose sets for every service
    assert ExampleSettings().log_level == "WARNING"
    monkeypatch.setenv("EXAMPLE_LOG_LEVEL", "DEBUG")
    assert ExampleSettings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x/db", "DATABASE_URL: Value error, scheme 'mysql' is not"),
        ("DATABASE_URL", "postgresql://host:5432", "DATABASE_URL: Value error, names no database"),
        ("DATABASE_URL", "::::", "DATABASE_URL: Value error, not a URL"),
        ("KAFKA_BOOTSTRAP_SERVERS", "nohost", "KAFKA_BOOTSTRAP_SERVERS: Value error, 'nohost'"),
        ("EXAMPLE_HTTP_PORT", "99999", "EXAMPLE_HTTP_PORT: Input should be less than"),
        ("LOG_LEVEL", "LOUD", "EXAMPLE_LOG_LEVEL: Value error, 'LOUD' is not one of"),
    ],
)
def test_a_bad_setting_exits_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as raised:
        load_settings(ExampleSettings)
    assert raised.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"configuration error: {message}")


def test_fields_that_name_secrets_are_never_logged() -> None:
    logged = redact_secrets(
        None,
        "info",
        {
            "event": "connected",
            "password": "hunter2",
            "api_key": "sk-1",
            "notion_token": "t",
            "provider": "openai",
        },
    )
    assert logged == {
        "event": "connected",
        "password": "[redacted]",
        "api_key": "[redacted]",
        "notion_token": "[redacted]",
        "provider": "openai",
    }
