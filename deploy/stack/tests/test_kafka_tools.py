import pytest

from assistant_stack import kafka
from assistant_stack.processes import StackError


def test_a_machine_without_java_or_maven_is_told_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError) as raised:
        kafka.require_tools()
    message = str(raised.value)
    assert message.startswith("java and mvn not found on PATH")
    assert "apt-get install openjdk-17-jre-headless maven" in message


def test_the_cluster_id_is_what_kraft_expects() -> None:
    cluster_id = kafka._cluster_id()
    assert len(cluster_id) == 22
    assert "=" not in cluster_id
