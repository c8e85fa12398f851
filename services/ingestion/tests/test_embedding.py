"""The local model: 384-dimensional unit vectors, loaded from the installed package, and safe to
count tokens with while it embeds (chunking runs in other threads than the model)."""

import threading

import pytest

from ingestion_service.embedding import LocalEmbedder


@pytest.fixture(scope="module")
def model() -> LocalEmbedder:
    return LocalEmbedder(batch_size=16)


def test_vectors_are_unit_length_and_similar_texts_are_near(model: LocalEmbedder) -> None:
    cat, kitten, invoice = model.embed(["a cat sleeps", "a kitten naps", "invoice overdue"])
    assert len(cat) == 384
    assert abs(sum(x * x for x in cat) - 1) < 1e-4

    def similarity(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert similarity(cat, kitten) > similarity(cat, invoice)


def test_counting_tokens_while_embedding_in_another_thread_is_safe(model: LocalEmbedder) -> None:
    errors: list[BaseException] = []
    texts = [f"sentence {i} " * (i % 40 + 1) for i in range(64)]

    def count() -> None:
        try:
            for _ in range(40):
                assert len(model.count_tokens(texts[:8])) == 8
        except BaseException as error:
            errors.append(error)

    counters = [threading.Thread(target=count) for _ in range(3)]
    for thread in counters:
        thread.start()
    for _ in range(3):
        assert len(model.embed(texts)) == 64
    for thread in counters:
        thread.join()
    assert errors == []
