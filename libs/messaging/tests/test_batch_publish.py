from aiokafka.partitioner import DefaultPartitioner

from assistant_messaging.publishing.batch_publish import partition_of


def test_a_key_gets_the_partition_the_default_partitioner_gives() -> None:
    partitions = list(range(6))
    keys = [f"user-{n}".encode() for n in range(500)]

    chosen = [partition_of(key, partitions) for key in keys]

    assert chosen == [DefaultPartitioner()(key, partitions, partitions) for key in keys]
    assert set(chosen) == set(partitions)


def test_a_record_without_a_key_goes_to_one_of_the_partitions() -> None:
    assert {partition_of(None, [3, 4]) for _ in range(200)} == {3, 4}
