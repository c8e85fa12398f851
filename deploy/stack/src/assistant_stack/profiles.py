"""Profiles keep `make run`, `make test` and the benchmarks apart: own data and own ports."""

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
LOCAL = REPO / ".local"

SERVICES = ("gateway", "generation", "notion_sync", "ingestion", "analytics")


@dataclass(frozen=True)
class Profile:
    name: str
    kafka_port: int
    controller_port: int
    postgres_port: int
    http_base_port: int
    durable: bool  # False trades crash safety of PostgreSQL for speed (scratch test data)

    @property
    def data_dir(self) -> Path:
        return LOCAL / self.name

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        """Through the server's Unix socket (in its data folder), as libpq connects to a local
        server by default: a statement's round trip costs both sides less CPU than over TCP
        loopback (the gateway about 5% less per accepted request). The server listens on
        127.0.0.1:`postgres_port` as well."""
        return (
            f"postgresql://postgres@/assistant?host={self.postgres_dir}&port={self.postgres_port}"
        )

    @property
    def postgres_dir(self) -> Path:
        """The server's data, and its socket."""
        return self.data_dir / "postgres"

    def http_port(self, service: str) -> int:
        return self.http_base_port + SERVICES.index(service)

    def environment(self) -> dict[str, str]:
        """What a process needs to reach this profile's stack."""
        env = {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "STACK_PROFILE": self.name,
            # The local protocol servers (fake LLMs, Notion) listen on loopback over plain
            # http; by default a user's base URL may reach neither.
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "OUTBOUND_ALLOW_HTTP": "true",
        }
        for service in SERVICES:
            env[f"{service.upper()}_HTTP_PORT"] = str(self.http_port(service))
        return env


# Every fixed port stays below Linux's ephemeral range (32768 and up by default): a port in it
# can be taken at any moment by some client's outgoing connection, and the server then cannot
# bind it.
EPHEMERAL_PORTS_START = 32768

PROFILES = {
    "run": Profile("run", 19092, 19093, 15432, 8000, durable=True),
    "test": Profile("test", 29092, 29093, 25432, 18000, durable=False),
    "bench": Profile("bench", 31092, 31093, 31432, 28000, durable=True),
}
