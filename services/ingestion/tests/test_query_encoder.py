"""The ONNX graph a search query is embedded with gives the PyTorch model's vectors, for one
text and for a padded batch of texts of different lengths (documents' vectors come from
PyTorch, so a query's must be the same to find them)."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingestion_service.embedding import LocalEmbedder
from ingestion_service.query_encoder import OnnxQueryEncoder, exported_graph, query_embedder_for

TEXTS = [
    "invoice",
    "Which consumer group lags behind on the billing partitions since the last deploy?",
    "Relatório de orçamento do trimestre: custos de armazenamento e de tokens por equipe.",
]


@pytest.fixture(scope="module")
def model() -> LocalEmbedder:
    return LocalEmbedder(batch_size=16)


@pytest.fixture(scope="module")
def graph(model: LocalEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exported_graph(model, tmp_path_factory.mktemp("models"))


def test_the_graph_gives_the_models_vectors(model: LocalEmbedder, graph: Path) -> None:
    encoder = OnnxQueryEncoder(model, graph)
    expected = np.array(model.embed(TEXTS))
    assert np.abs(np.array(encoder.embed(TEXTS)) - expected).max() < 1e-4  # padded together
    for text, vector in zip(TEXTS, expected, strict=True):
        assert np.abs(np.array(encoder.embed([text])[0]) - vector).max() < 1e-4


def test_the_graph_is_exported_once_and_reused(model: LocalEmbedder, graph: Path) -> None:
    written = graph.stat().st_mtime_ns
    assert exported_graph(model, graph.parent) == graph
    assert graph.stat().st_mtime_ns == written
    assert [p.name for p in graph.parent.iterdir()] == [graph.name]  # no partial file left


def test_a_graph_that_differs_from_the_model_is_not_used(model: LocalEmbedder, graph: Path) -> None:
    assert isinstance(query_embedder_for([model], graph.parent), OnnxQueryEncoder)
    other = LocalEmbedder(batch_size=16)
    transformer: Any = other.model[0].auto_model
    attention = transformer.encoder.layer[0].attention.self.query
    attention.weight.data *= 2  # the same weights file, but not the same model any more
    assert query_embedder_for([other], graph.parent) is other
