"""Model runtimes behind `Engine`, chosen from a registry by what the model path is.

GGUF files run in the native llama.cpp session (the Engine's default path). Other
formats register a `Backend` here; a backend runs the network and hands the logits to
the native core (`_core.LogitsSession`), so sampling, grammar masks, stop strings and
end-of-generation rules are the same code for every backend. Heavy imports
(onnxruntime) happen only when such a model is opened.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _core

__all__ = ["Backend", "register_backend", "open_backend", "BACKENDS"]


class Backend(ABC):
    """A runtime for a non-GGUF model. Quacks like `_core.Session` for the Engine:
    `generate(tokens, params, on_text, matcher)` returns a native GenerateResult."""

    name: str = ""
    path: Path
    vocab: "_core.Model"  # vocabulary-only GGUF model: tokens, chat template, grammar vocabulary

    @classmethod
    @abstractmethod
    def accepts(cls, path: Path) -> bool:
        """Whether `path` is a model of this backend's format."""

    @abstractmethod
    def generate(self, prompt: Sequence[int], params: "_core.GenerateParams",
                 on_text: Optional[Callable[[bytes], Any]] = None,
                 grammar: Optional["_core.GrammarMatcher"] = None) -> "_core.GenerateResult": ...

    @abstractmethod
    def all_logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits at every position of `tokens` (n × n_vocab float32), from an empty cache."""

    @abstractmethod
    def reset(self) -> None: ...

    @property
    @abstractmethod
    def n_ctx(self) -> int: ...

    @property
    @abstractmethod
    def cached_tokens(self) -> list[int]: ...


BACKENDS: dict[str, Callable[[], type[Backend]]] = {}


def register_backend(name: str, loader: Callable[[], type[Backend]]) -> None:
    """`loader` imports and returns the class, so a backend costs nothing until used."""
    BACKENDS[name] = loader


def _onnx() -> type[Backend]:
    from .onnx_backend import OnnxRuntimeBackend

    return OnnxRuntimeBackend


register_backend("onnxruntime", _onnx)


def open_backend(model: Union[str, os.PathLike[str], None], **options: Any) -> Optional[Backend]:
    """The backend instance for `model`, or None when it is for the native GGUF session."""
    if model is None:
        return None
    path = Path(os.fspath(model)).expanduser()
    if not path.is_dir():
        return None
    for loader in BACKENDS.values():
        cls = loader()
        if cls.accepts(path):
            return cls(path, **options)
    return None
