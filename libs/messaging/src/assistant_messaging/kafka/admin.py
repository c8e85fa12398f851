"""Creating the declared topics (idempotently) on a broker."""

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from assistant_schemas.topics import TopicSpec, all_topic_specs

# Where the services and the operator tools look for Kafka when KAFKA_BOOTSTRAP_SERVERS is not
# set: the broker of `make run`.
DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:19092"


async def ensure_topics(
    bootstrap_servers: str,
    specs: list[TopicSpec] | None = None,
    *,
    replication_factor: int = 1,
    wait_s: float = 60,
) -> list[str]:
    """Creates every missing topic; returns the names it created. Waits for the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs or all_topic_specs() if spec.name not in existing]
        created = []
        for spec in missing:
            topic = NewTopic(
                spec.name,
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                topic_configs=spec.configs,
            )
            try:
                await admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[int]:
    """The partition numbers of `topic`; empty if the topic does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description.get("error_code"):
        return []
    return sorted(partition["partition"] for partition in description["partitions"])
