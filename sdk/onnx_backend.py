"""ONNX Runtime backend: an exported causal LM (KV cache in/out) decoded in Python,
sampled in C++.

The directory is what `edgeagent quantize --to onnx` writes: `model.onnx` (optimum's
`text-generation-with-past` export, optionally int8/int4), the HF config, and
`tokenizer.gguf` (a vocabulary-only GGUF). Each step's logits go to
`_core.LogitsSession.step` through the buffer protocol (no copy), which applies the same
sampler, grammar mask and stop rules as the llama.cpp session. A prefix cache keeps the
KV arrays of the previous request and reuses its longest common prefix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import _core
from .backend import Backend
from .errors import ContextOverflowError, InvalidParameterError, ModelFileError

__all__ = ["OnnxRuntimeBackend"]

MODEL_FILE = "model.onnx"
VOCAB_FILE = "tokenizer.gguf"
META_FILE = "edgeagent.json"

_NP_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32}


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return (path / MODEL_FILE).is_file() or (path / META_FILE).is_file()

    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: Optional[int] = None, **_: Any):
        import onnxruntime as ort

        self.path = Path(path)
        for needed in (MODEL_FILE, VOCAB_FILE, "config.json"):
            if not (self.path / needed).is_file():
                raise ModelFileError(f"ONNX model directory {self.path} has no {needed} "
                                     f"(export it with `edgeagent quantize SRC --to onnx`)")
        params = _core.ModelParams()
        params.vocab_only = True
        self.vocab = _core.Model.load(str(self.path / VOCAB_FILE), params)
        config = json.loads((self.path / "config.json").read_text())
        text_config = config.get("text_config", config)
        train_ctx = int(text_config.get("max_position_embeddings") or n_ctx)
        self._n_ctx = min(n_ctx, train_ctx)
        options = ort.SessionOptions()
        options.intra_op_num_threads = n_threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(self.path / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelFileError(f"cannot load ONNX model {self.path / MODEL_FILE}: {e}") from None
        self._inputs = {i.name: i for i in self.session.get_inputs()}
        self._past_names = [n for n in self._inputs if n.startswith("past_key_values.")]
        self._present_names = [n.replace("past_key_values.", "present.") for n in self._past_names]
        outputs = [o.name for o in self.session.get_outputs()]
        if "input_ids" not in self._inputs or "logits" not in outputs or not self._past_names:
            raise ModelFileError(f"{self.path / MODEL_FILE} is not a causal LM exported with a KV cache "
                                 f"(inputs: {', '.join(self._inputs)})")
        missing = [n for n in self._present_names if n not in outputs]
        if missing:
            raise ModelFileError(f"{self.path / MODEL_FILE} has no output {missing[0]} for its KV cache")
        self._output_names = ["logits", *self._present_names]
        self._past: list[np.ndarray] = []
        self._cache: list[int] = []
        vocab_rows = self.session.get_outputs()[outputs.index("logits")].shape[-1]
        if isinstance(vocab_rows, int) and vocab_rows < self.vocab.n_vocab:
            raise ModelFileError(f"{self.path}: the model has {vocab_rows} logits, its tokenizer {self.vocab.n_vocab} "
                                 f"tokens")

    # -- the network -------------------------------------------------------------
    def _empty_past(self) -> list[np.ndarray]:
        arrays = []
        for name in self._past_names:
            meta = self._inputs[name]
            shape = [1 if i == 0 else (d if isinstance(d, int) else 0) for i, d in enumerate(meta.shape)]
            arrays.append(np.zeros(shape, dtype=_NP_TYPES.get(meta.type, np.float32)))
        return arrays

    def _forward(self, tokens: Sequence[int], past: list[np.ndarray], past_len: int) -> tuple[np.ndarray, list]:
        n = len(tokens)
        feed: dict[str, np.ndarray] = {"input_ids": np.asarray([tokens], dtype=np.int64)}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = np.ones((1, past_len + n), dtype=np.int64)
        if "position_ids" in self._inputs:
            feed["position_ids"] = np.arange(past_len, past_len + n, dtype=np.int64)[None, :]
        if "cache_position" in self._inputs:
            feed["cache_position"] = np.arange(past_len, past_len + n, dtype=np.int64)
        feed.update(zip(self._past_names, past))
        out = self.session.run(self._output_names, feed)
        return out[0], out[1:]

    # -- Backend -------------------------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def cached_tokens(self) -> list[int]:
        return list(self._cache)

    def reset(self) -> None:
        self._past, self._cache = [], []

    def all_logits(self, tokens: Sequence[int]) -> np.ndarray:
        tokens = list(tokens)
        if not tokens:
            raise InvalidParameterError("no tokens to evaluate")
        if len(tokens) >= self._n_ctx:
            raise ContextOverflowError(f"the text has {len(tokens)} tokens, the context holds {self._n_ctx}")
        logits, _ = self._forward(tokens, self._empty_past(), 0)
        return np.ascontiguousarray(logits[0, :, : self.vocab.n_vocab], dtype=np.float32)

    def generate(self, prompt: Sequence[int], params: "_core.GenerateParams",
                 on_text: Optional[Callable[[bytes], Any]] = None,
                 grammar: Optional["_core.GrammarMatcher"] = None) -> "_core.GenerateResult":
        prompt = list(prompt)
        n_vocab = self.vocab.n_vocab
        if not prompt:
            raise InvalidParameterError("the prompt is empty (no tokens)")
        bad = next((i for i, t in enumerate(prompt) if not 0 <= t < n_vocab), None)
        if bad is not None:
            raise InvalidParameterError(f"prompt token {bad} has id {prompt[bad]}, outside the vocabulary "
                                        f"[0, {n_vocab})")
        if len(prompt) >= self._n_ctx:
            raise ContextOverflowError(f"the prompt has {len(prompt)} tokens but the context holds {self._n_ctx} "
                                       f"(prompt plus at least one generated token)")
        # Prefix cache: keep the KV entries of the longest common prefix (at least one
        # prompt token is evaluated: sampling needs its logits).
        common = 0
        while common < min(len(self._cache), len(prompt)) and self._cache[common] == prompt[common]:
            common += 1
        common = min(common, len(prompt) - 1)
        if params.gate_position >= 0:  # the gate reads the logits at its position
            common = min(common, params.gate_position)
        decoder = _core.LogitsSession(self.vocab, params, len(prompt), grammar, common)  # starts the clock
        past = [p[:, :, :common, :] for p in self._past] if common > 0 else self._empty_past()
        self._past, self._cache = [], []  # invalid until this request's forward passes succeed
        logits, past = self._forward(prompt[common:], past, common)
        cache = list(prompt)
        if params.gate_position >= 0 and not decoder.pass_gate(logits[0, params.gate_position - common]):
            self._past, self._cache = past, cache
            return decoder.finish()

        def emit() -> None:
            text = decoder.take_text()
            if text and on_text is not None:
                r = on_text(text)
                if r is not None and not r:
                    decoder.stop("cancelled")

        while True:
            token = decoder.step(logits[0, -1])
            emit()
            if token < 0 or decoder.done:
                break
            if len(cache) + 1 >= self._n_ctx:
                decoder.stop("context")
                emit()
                break
            logits, past = self._forward([token], past, len(cache))
            cache.append(token)
        self._past, self._cache = past, cache
        return decoder.finish()
