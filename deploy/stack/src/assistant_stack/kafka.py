"""Apache Kafka in KRaft mode (one combined broker+controller) without Docker.

The broker jars come from Maven Central through `deploy/kafka/pom.xml` and are cached in
`.local/kafka/libs`; the machine's Java runs `kafka.tools.StorageTool format` once per data
directory and then `kafka.Kafka`.
"""

import base64
import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path

from assistant_stack.processes import StackError, running_pid, start_detached, wait_for_port
from assistant_stack.profiles import LOCAL, REPO, Profile

POM = REPO / "deploy" / "kafka" / "pom.xml"
LOG_CONFIG = REPO / "deploy" / "kafka" / "log4j2.properties"
LIBS = LOCAL / "kafka" / "libs"
HEAP = ("-Xms256m", "-Xmx768m")


def require_tools() -> None:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        raise StackError(
            f"{' and '.join(missing)} not found on PATH: the local Kafka broker needs Java 17+ "
            "and Maven (Debian: apt-get install openjdk-17-jre-headless maven)"
        )


def resolve_jars() -> None:
    """Copies the broker and its runtime dependencies from Maven into the local cache."""
    stamp = LIBS / ".pom-sha"
    pom_digest = _digest(POM)
    if stamp.exists() and stamp.read_text() == pom_digest:
        return
    require_tools()
    print(f"resolving Apache Kafka from Maven Central into {LIBS} ...", flush=True)
    shutil.rmtree(LIBS, ignore_errors=True)
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={LIBS}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"Maven could not resolve Kafka:\n{result.stdout}{result.stderr}")
    stamp.write_text(pom_digest)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _java(*args: str, gc_log: Path | None = None) -> list[str]:
    logging = [f"-Xlog:gc:file={gc_log}:time,uptime:filecount=2,filesize=10m"] if gc_log else []
    return [
        "java",
        *HEAP,
        *logging,
        f"-Dlog4j2.configurationFile={LOG_CONFIG}",
        "-cp",
        f"{LIBS}/*",
        *args,
    ]


def _write_config(profile: Profile) -> Path:
    directory = profile.data_dir / "kafka"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "server.properties"
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{profile.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{profile.kafka_port},"
                f"CONTROLLER://127.0.0.1:{profile.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{profile.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={directory / 'data'}",
                "num.partitions=6",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "",
            ]
        )
    )
    return config


def start(profile: Profile) -> None:
    pid_dir = profile.data_dir
    if running_pid("kafka", pid_dir):
        return
    require_tools()
    resolve_jars()
    config = _write_config(profile)
    if not (profile.data_dir / "kafka" / "data" / "meta.properties").exists():
        subprocess.run(
            _java("kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(config)),
            check=True,
            capture_output=True,
        )
    log_file = profile.data_dir / "logs" / "kafka.log"
    gc_log = profile.data_dir / "logs" / "kafka-gc.log"
    start_detached(
        "kafka",
        _java("kafka.Kafka", str(config), gc_log=gc_log),
        pid_dir=pid_dir,
        log_file=log_file,
    )
    wait_for_port(profile.kafka_port, timeout_s=60, what="Kafka", log_file=log_file)


def _cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
