"""`edgeagent bench grammar`: our grammar engine vs xgrammar, llguidance, outlines-core and
llama.cpp's GBNF grammar (through llama-cpp-python), on the same schemas and tokens.

What is measured, per vocabulary (one per model) and per engine:

* **compile**: JSON Schema text → a grammar ready to give masks on that vocabulary
  (ours: `Grammar.from_json_schema` + `_core.compile_grammar`; xgrammar:
  `GrammarCompiler.compile_json_schema`; llguidance: `LLMatcher.grammar_from_json_schema`
  + `LLMatcher(...)`; outlines-core: `build_regex_from_schema` + `Index`; GBNF:
  `LlamaGrammar.from_json_schema` + `llama_sampler_init_grammar`). One-time per-vocabulary
  work (tokenizer tables) is reported apart as ``setup_ms`` and is not in compile times.
* **mask**: the time of one call that gives the allowed-token set over the whole
  vocabulary, at every step of one token sequence per schema, advancing with that
  sequence's tokens (ours: `fill_next_token_bitmask`; xgrammar: `fill_next_token_bitmask`
  into a preallocated bitmask; llguidance: `unsafe_compute_mask_ptr` into a preallocated
  bitmask; outlines-core: `Guide.write_mask_into`; GBNF: `llama_sampler_apply` over a
  full-vocabulary candidate array, the logits reset outside the timed region). Every
  engine is called from Python, so each time includes one Python→native call.
  The step after the last token (where only end-of-generation is allowed) is timed too.

The token sequences: for every schema a valid JSON instance is generated from the
schema by a seeded generator that knows nothing about any engine, checked with the
`jsonschema` library, written compactly (``", "`` / ``": "``, properties in schema
order, as our generation mode writes them) and tokenized with the model's own
tokenizer. Every engine gets exactly those tokens. Schemas are the deduplicated
``parameters`` schemas of the BFCL dev set, with ``additionalProperties: false``
made explicit on objects that do not say (our default for tool arguments), so that
every engine compiles the same language. A schema an engine cannot compile is
counted in that engine's ``unsupported`` and left out of its figures; a valid
sequence an engine refuses is counted in ``rejected_valid`` (with examples).

Peers are optional: an engine whose package is not importable is reported as
``{"available": false}``. Slow engines are bounded by a time budget per engine and
vocabulary (``budget_s``); schemas are visited in one seeded order and every engine
runs each schema in turn, so an engine that runs out of budget has run a prefix of
the same list (``schemas_run``).

Also: decode tok/s unconstrained vs constrained on our engine, and the wall time to
emit a whole tool call with our engine (`Grammar.from_tools(mode="required")`) vs
llama-cpp-python with a GBNF grammar for the same call, on the same prompt tokens.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from ..errors import UserInputError
from ..models import REGISTRY, resolve

__all__ = ["ENGINES", "TARGETS", "run_grammar_bench", "collect_schemas", "make_instance", "DEFAULT_DATA"]

ENGINES = ("edgeagent", "xgrammar", "llguidance", "outlines_core", "llama_cpp_gbnf")

# issue 3's targets
TARGETS = {
    "mask_p50_us": 3.0,
    "mask_p99_us": 30.0,
    "compile_p50_ms": 1.0,
    "constrained_over_unconstrained_tok_s": 0.98,
    "tool_call_wall_over_gbnf": 0.6,
}



def _default_data() -> str:
    """$EDGEAGENT_BFCL_DATA, else ../shared/bench/bfcl-dev from the working directory (the repo)."""
    env = os.environ.get("EDGEAGENT_BFCL_DATA")
    if env:
        return env
    for base in (os.getcwd(), os.path.dirname(os.getcwd())):
        candidate = os.path.join(base, "shared", "bench", "bfcl-dev")
        if os.path.isdir(candidate):
            return candidate
    return os.path.join("..", "shared", "bench", "bfcl-dev")


DEFAULT_DATA = _default_data()
BFCL_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")

Progress = Optional[Callable[[str], None]]


def _say(progress: Progress, msg: str) -> None:
    if progress:
        progress(msg)


def _pct(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def _r(x: Optional[float], nd: int = 3) -> Optional[float]:
    return None if x is None else round(x, nd)


# ---------------------------------------------------------------------------
# Schemas and instances
# ---------------------------------------------------------------------------


def _close_objects(schema: Any) -> Any:
    """A copy of `schema` with ``additionalProperties: false`` on every object schema that
    lists properties and says nothing about extra ones (tool-argument semantics)."""
    if isinstance(schema, list):
        return [_close_objects(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k in ("properties", "$defs", "definitions") and isinstance(v, dict):
            out[k] = {name: _close_objects(sub) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not", "contains") and isinstance(v, dict):
            out[k] = _close_objects(v)
        elif k in ("prefixItems", "anyOf", "oneOf", "allOf") and isinstance(v, list):
            out[k] = [_close_objects(s) for s in v]
        else:
            out[k] = v
    is_object = out.get("type") == "object" or (isinstance(out.get("type"), list) and "object" in out["type"])
    if (is_object or "properties" in out) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@dataclass
class SchemaCase:
    id: str  # "<function name>#<hash>"
    name: str
    schema: dict
    text: str  # the schema as given to every engine
    instance_text: str = ""
    instance_error: str = ""


def collect_schemas(data_dir: str, *, limit: Optional[int] = None, seed: int = 0,
                    categories: Iterable[str] = BFCL_CATEGORIES) -> list[SchemaCase]:
    """The deduplicated parameter schemas of the BFCL items under `data_dir`, in a seeded order."""
    from .bfcl import load_category

    if not os.path.isdir(data_dir):
        raise UserInputError(f"--data: no directory {data_dir}")
    seen: dict[str, SchemaCase] = {}
    for cat in categories:
        if not os.path.isfile(os.path.join(data_dir, f"{cat}.jsonl")):
            continue
        for item in load_category(data_dir, cat):
            for tool in item.tools:
                fn = tool["function"]
                schema = _close_objects(fn.get("parameters") or {"type": "object", "properties": {}})
                text = json.dumps(schema, ensure_ascii=False)
                key = hashlib.sha1(text.encode()).hexdigest()[:10]
                if key not in seen:
                    seen[key] = SchemaCase(id=f"{fn['name']}#{key}", name=fn["name"], schema=schema, text=text)
    if not seen:
        raise UserInputError(f"--data: no BFCL tool schemas found in {data_dir}")
    cases = sorted(seen.values(), key=lambda c: c.id)
    random.Random(seed).shuffle(cases)
    return cases[:limit] if limit else cases


_WORDS = ["alpha", "Berlin", "data", "report", "New York", "blue", "quick fox", "2024 plan", "café", "naïve",
          "東京", "x", "hello world", "value", "units", "Paris", "sample text", "item"]


def _instance(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    if schema is True or not isinstance(schema, dict) or depth > 8:
        return rng.choice(_WORDS)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _instance(rng.choice(schema[key]), rng, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict = {}
        for s in schema["allOf"]:
            if isinstance(s, dict):
                merged.update(s)
        merged.update({k: v for k, v in schema.items() if k != "allOf"})
        return _instance(merged, rng, depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        choices = [x for x in t if x != "null"] or t
        t = rng.choice(choices)
    if t is None:
        t = "object" if "properties" in schema else "array" if ("items" in schema or "prefixItems" in schema) \
            else "string"
    if t == "object":
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        out = {}
        for name, sub in props.items():
            if name in required or rng.random() < 0.5:
                out[name] = _instance(sub, rng, depth + 1)
        return out
    if t == "array":
        prefix = schema.get("prefixItems") or []
        lo = int(schema.get("minItems", 1 if not prefix else len(prefix)))
        hi = int(schema.get("maxItems", max(lo, 3)))
        n = rng.randint(min(lo, hi), max(min(lo, hi), min(hi, max(lo, 3))))
        items = schema.get("items", {})
        out_list = [_instance(prefix[i], rng, depth + 1) if i < len(prefix) else
                    _instance(items if items is not False else {}, rng, depth + 1) for i in range(n)]
        return out_list
    if t == "integer":
        lo = schema.get("minimum", -50 if rng.random() < 0.2 else 0)
        hi = schema.get("maximum", lo + 2000)
        if "exclusiveMinimum" in schema:
            lo = math.floor(schema["exclusiveMinimum"]) + 1
        if "exclusiveMaximum" in schema:
            hi = math.ceil(schema["exclusiveMaximum"]) - 1
        return rng.randint(math.ceil(lo), max(math.ceil(lo), math.floor(hi)))
    if t == "number":
        lo = float(schema.get("minimum", 0.0))
        hi = float(schema.get("maximum", lo + 1000.0))
        return round(rng.uniform(lo, hi), rng.choice([1, 2, 3]))
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    # string
    fmt = schema.get("format")
    if fmt == "date":
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if fmt == "date-time":
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:15:00Z"
    if fmt == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
    if fmt == "email":
        return "user@example.com"
    if fmt == "uuid":
        return "123e4567-e89b-42d3-a456-426614174000"
    if fmt in ("uri", "url"):
        return "https://example.com/a"
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 3))]
    text = " ".join(words)
    lo, hi = int(schema.get("minLength", 0)), schema.get("maxLength")
    while len(text) < lo:
        text += "a"
    if hi is not None:
        text = text[: int(hi)]
    return text


def make_instance(schema: dict, seed: int) -> tuple[str, str]:
    """A valid instance of `schema` as compact JSON text, or ("", why not)."""
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    last = ""
    for attempt in range(8):
        value = _instance(schema, random.Random(seed * 1000 + attempt))
        errors = list(validator.iter_errors(value))
        if not errors:
            return json.dumps(value, ensure_ascii=False, separators=(", ", ": ")), ""
        last = errors[0].message[:120]
    return "", f"no valid instance generated: {last}"


# ---------------------------------------------------------------------------
# The vocabulary of one model, as every engine is given it
# ---------------------------------------------------------------------------


@dataclass
class Vocab:
    model_name: str
    path: str
    native: Any  # edgeagent._core.Model
    n_vocab: int
    tokens: list[bytes]  # token id → bytes (b"" for control tokens)
    eog: list[int]  # end-of-generation tokens
    eos: int
    _llama: Any = None  # llama_cpp.Llama(vocab_only=True), made on first use

    def llama_vocab(self) -> Any:
        import llama_cpp

        if self._llama is None:
            self._llama = llama_cpp.Llama(model_path=self.path, vocab_only=True, verbose=False)
        return llama_cpp.llama_model_get_vocab(self._llama.model)


def load_vocab(model_name: str) -> Vocab:
    from .. import _core

    path = str(resolve(model_name))
    m = _core.Model.load(path)
    n = m.n_vocab
    tokens = [m.token_bytes(t) for t in range(n)]
    eog = [t for t in range(n) if m.is_end_of_generation(t)]
    return Vocab(model_name=model_name, path=path, native=m, n_vocab=n, tokens=tokens, eog=eog,
                 eos=m.eos if m.eos >= 0 else (eog[0] if eog else 0))


# ---------------------------------------------------------------------------
# Engine adapters: the same five operations for every engine
# ---------------------------------------------------------------------------


class Unsupported(Exception):
    """The engine cannot compile this schema."""


class Adapter:
    name = ""
    package = ""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def version(self) -> str:
        from importlib.metadata import version

        try:
            return version(self.package)
        except Exception:
            return "?"

    def compile(self, schema_text: str) -> Any:  # raises Unsupported
        raise NotImplementedError

    def matcher(self, compiled: Any) -> Any:
        raise NotImplementedError

    def prepare(self, m: Any) -> None:  # untimed work before each mask
        pass

    def fill(self, m: Any) -> Any:  # timed: the allowed set over the whole vocabulary
        raise NotImplementedError

    def allowed(self, mask: Any, token: int) -> bool:
        raise NotImplementedError

    def accept(self, m: Any, token: int) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _bit(words: Any, token: int) -> bool:
    return bool((int(words[token >> 5]) >> (token & 31)) & 1)


class EdgeagentAdapter(Adapter):
    name, package = "edgeagent", "edgeagent"

    def __init__(self, vocab: Vocab):
        super().__init__(vocab)
        import numpy as np

        from .. import _core
        from ..grammar import Grammar

        self._core, self._Grammar = _core, Grammar
        self._words = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)  # reused every step
        # one-time per vocabulary: the first compile builds the vocabulary tables
        self._core.compile_grammar(vocab.native, Grammar.from_json_schema({"type": "boolean"})._native)

    def compile(self, schema_text: str) -> Any:
        from ..errors import EdgeAgentError

        try:
            g = self._Grammar.from_json_schema(schema_text)
            return self._core.compile_grammar(self.vocab.native, g._native)
        except (EdgeAgentError, ValueError, RuntimeError) as e:
            raise Unsupported(str(e)) from None

    def matcher(self, compiled: Any) -> Any:
        return self._core.GrammarMatcher(compiled)

    def fill(self, m: Any) -> Any:
        # into one reused buffer, as the xgrammar adapter does: no allocation timed
        return m.fill_next_token_bitmask(self._words)

    allowed = staticmethod(_bit)

    def accept(self, m: Any, token: int) -> bool:
        try:
            return bool(m.accept_token(token))
        except Exception:
            return False


class XgrammarAdapter(Adapter):
    name, package = "xgrammar", "xgrammar"

    def __init__(self, vocab: Vocab):
        super().__init__(vocab)
        import xgrammar as xgr

        self.xgr = xgr
        info = xgr.TokenizerInfo(vocab.tokens, xgr.VocabType.RAW, vocab_size=vocab.n_vocab, stop_token_ids=vocab.eog)
        self.compiler = xgr.GrammarCompiler(info, max_threads=2)
        self.bitmask = xgr.allocate_token_bitmask(1, vocab.n_vocab)
        self.words = self.bitmask.numpy()[0]

    def compile(self, schema_text: str) -> Any:
        try:
            return self.compiler.compile_json_schema(schema_text, any_whitespace=True, strict_mode=True)
        except Exception as e:  # xgrammar raises RuntimeError / ValueError subclasses
            raise Unsupported(str(e).splitlines()[0] if str(e) else type(e).__name__) from None

    def matcher(self, compiled: Any) -> Any:
        return self.xgr.GrammarMatcher(compiled)

    def fill(self, m: Any) -> Any:
        m.fill_next_token_bitmask(self.bitmask)
        return self.words

    allowed = staticmethod(_bit)

    def accept(self, m: Any, token: int) -> bool:
        return bool(m.accept_token(token))


class LlguidanceAdapter(Adapter):
    name, package = "llguidance", "llguidance"

    def __init__(self, vocab: Vocab):
        super().__init__(vocab)
        import llguidance
        import llguidance.llamacpp
        import numpy as np

        self.ll = llguidance
        self.tokenizer = llguidance.llamacpp.lltokenizer_from_vocab(vocab.llama_vocab(), n_vocab=vocab.n_vocab)
        self.buf = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.uint32)
        self.ptr, self.nbytes = self.buf.ctypes.data, self.buf.nbytes

    def compile(self, schema_text: str) -> Any:
        try:
            grammar = self.ll.LLMatcher.grammar_from_json_schema(schema_text)
            m = self.ll.LLMatcher(self.tokenizer, grammar, log_level=0)
        except Exception as e:
            raise Unsupported(str(e).splitlines()[0]) from None
        if m.is_error():
            raise Unsupported(m.get_error().splitlines()[0])
        return m

    def matcher(self, compiled: Any) -> Any:
        return compiled.deep_copy()

    def fill(self, m: Any) -> Any:
        m.unsafe_compute_mask_ptr(self.ptr, self.nbytes)
        return self.buf

    allowed = staticmethod(_bit)

    def accept(self, m: Any, token: int) -> bool:
        return bool(m.consume_token(token))


class OutlinesCoreAdapter(Adapter):
    name, package = "outlines_core", "outlines-core"
    max_regex_chars = 30_000  # larger regexes can take minutes to index: counted as unsupported

    def __init__(self, vocab: Vocab):
        super().__init__(vocab)
        import numpy as np
        import outlines_core

        self.oc = outlines_core
        eos = vocab.eos
        mapping: dict[bytes, list[int]] = {}
        for t, b in enumerate(vocab.tokens):
            if b and t != eos:
                mapping.setdefault(b, []).append(t)
        self.ocvocab = outlines_core.Vocabulary(eos, mapping)
        self.buf = np.zeros((vocab.n_vocab + 31) // 32, dtype=np.int32)
        self.ptr, self.numel = self.buf.ctypes.data, self.buf.size

    def compile(self, schema_text: str) -> Any:
        try:
            regex = self.oc.json_schema.build_regex_from_schema(schema_text)
        except Exception as e:
            raise Unsupported(str(e).splitlines()[0]) from None
        if len(regex) > self.max_regex_chars:
            raise Unsupported(f"regex of {len(regex)} characters (over the bench's {self.max_regex_chars})")
        try:
            return self.oc.Index(regex, self.ocvocab)
        except Exception as e:
            raise Unsupported(str(e).splitlines()[0]) from None

    def matcher(self, compiled: Any) -> Any:
        return self.oc.Guide(compiled)

    def fill(self, m: Any) -> Any:
        m.write_mask_into(self.ptr, self.numel, 4)
        return self.buf

    allowed = staticmethod(_bit)

    def accept(self, m: Any, token: int) -> bool:
        try:
            m.advance(token, False)
            return True
        except Exception:
            return False


class LlamaCppGbnfAdapter(Adapter):
    """llama.cpp's grammar sampler; its "mask" is `llama_sampler_apply` over every token."""

    name, package = "llama_cpp_gbnf", "llama_cpp_python"

    def __init__(self, vocab: Vocab):
        super().__init__(vocab)
        import llama_cpp

        self.lc = llama_cpp
        self.lvocab = vocab.llama_vocab()
        n = vocab.n_vocab
        self.data = (llama_cpp.llama_token_data * n)()
        for i in range(n):
            self.data[i].id = i
            self.data[i].logit = 0.0
        self.template = (llama_cpp.llama_token_data * n)()
        ctypes.memmove(self.template, self.data, ctypes.sizeof(self.data))
        self.array = llama_cpp.llama_token_data_array(data=self.data, size=n, selected=-1, sorted=False)
        self.array_p = ctypes.byref(self.array)
        self.nbytes = ctypes.sizeof(self.data)
        self._live: list[Any] = []

    def compile(self, schema_text: str) -> Any:
        try:
            gbnf = self.lc.LlamaGrammar.from_json_schema(schema_text, verbose=False)._grammar
        except Exception as e:
            raise Unsupported(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
        smpl = self.lc.llama_sampler_init_grammar(self.lvocab, gbnf.encode(), b"root")
        if not smpl:
            raise Unsupported("llama_sampler_init_grammar failed to parse the grammar")
        return (gbnf, smpl)

    def matcher(self, compiled: Any) -> Any:
        gbnf, smpl = compiled
        if smpl is None:
            smpl = self.lc.llama_sampler_init_grammar(self.lvocab, gbnf.encode(), b"root")
        self._live.append(smpl)
        return smpl

    def prepare(self, m: Any) -> None:
        ctypes.memmove(self.data, self.template, self.nbytes)
        self.array.size, self.array.selected, self.array.sorted = self.vocab.n_vocab, -1, False

    def fill(self, m: Any) -> Any:
        self.lc.llama_sampler_apply(m, self.array_p)
        return self.data

    def allowed(self, mask: Any, token: int) -> bool:
        return mask[token].logit != -math.inf

    def accept(self, m: Any, token: int) -> bool:
        self.lc.llama_sampler_accept(m, token)  # only called for tokens the grammar allowed
        return True

    def release(self) -> None:
        for s in self._live:
            self.lc.llama_sampler_free(s)
        self._live.clear()

    close = release


ADAPTERS = {"edgeagent": EdgeagentAdapter, "xgrammar": XgrammarAdapter, "llguidance": LlguidanceAdapter,
            "outlines_core": OutlinesCoreAdapter, "llama_cpp_gbnf": LlamaCppGbnfAdapter}
_IMPORTS = {"edgeagent": "edgeagent._core", "xgrammar": "xgrammar", "llguidance": "llguidance",
            "outlines_core": "outlines_core", "llama_cpp_gbnf": "llama_cpp"}


def engine_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(_IMPORTS[name].split(".")[0]) is not None


# ---------------------------------------------------------------------------
# The mask/compile measurement
# ---------------------------------------------------------------------------


@dataclass
class EngineStats:
    name: str
    available: bool = True
    version: str = ""
    setup_ms: Optional[float] = None
    error: str = ""
    compile_ms: list[float] = field(default_factory=list)
    mask_us: list[float] = field(default_factory=list)
    first_mask_us: list[float] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    no_end: list[str] = field(default_factory=list)
    schemas_run: int = 0
    sequences_completed: int = 0
    skipped_budget: int = 0
    spent_s: float = 0.0
    per_schema: dict[str, tuple[float, list[float]]] = field(default_factory=dict)  # id → (compile ms, mask µs)

    def report(self) -> dict[str, Any]:
        if not self.available:
            return {"available": False, "error": self.error}
        return {
            "available": True, "version": self.version, "setup_ms": _r(self.setup_ms, 1),
            "schemas_run": self.schemas_run, "skipped_budget": self.skipped_budget,
            "unsupported": len(self.unsupported),
            "unsupported_examples": [{"schema": s, "error": e[:200]} for s, e in self.unsupported[:5]],
            "compile_ms": {"p50": _r(_pct(self.compile_ms, 50)), "p99": _r(_pct(self.compile_ms, 99)),
                           "mean": _r(statistics.fmean(self.compile_ms)) if self.compile_ms else None,
                           "max": _r(max(self.compile_ms)) if self.compile_ms else None,
                           "n": len(self.compile_ms)},
            "mask_us": {"p50": _r(_pct(self.mask_us, 50)), "p99": _r(_pct(self.mask_us, 99)),
                        "mean": _r(statistics.fmean(self.mask_us)) if self.mask_us else None,
                        "max": _r(max(self.mask_us)) if self.mask_us else None, "n": len(self.mask_us)},
            "first_mask_us": {"p50": _r(_pct(self.first_mask_us, 50)), "p99": _r(_pct(self.first_mask_us, 99))},
            "sequences_completed": self.sequences_completed,
            "rejected_valid": len(self.rejected), "rejected_examples": self.rejected[:5],
            "no_end_after_valid_sequence": len(self.no_end), "no_end_examples": self.no_end[:5],
            "spent_s": round(self.spent_s, 2),
        }


def _run_sequence(a: Adapter, compiled: Any, tokens: Sequence[int], eog: Sequence[int],
                  st: EngineStats, case: SchemaCase) -> list[float]:
    m = a.matcher(compiled)
    fill, prepare, allowed, accept = a.fill, a.prepare, a.allowed, a.accept
    clock = time.perf_counter_ns
    times: list[float] = []
    for i, tok in enumerate(tokens):
        prepare(m)
        t0 = clock()
        mask = fill(m)
        t1 = clock()
        times.append((t1 - t0) / 1e3)
        if not allowed(mask, tok):
            st.rejected.append({"schema": case.id, "step": i, "token": tok, "why": "not in mask",
                                "prefix": a.vocab.native.detokenize(list(tokens[:i]), False).decode("utf-8", "replace")[-60:],
                                "token_bytes": repr(a.vocab.tokens[tok])})
            break
        if not accept(m, tok):
            st.rejected.append({"schema": case.id, "step": i, "token": tok, "why": "accept refused",
                                "token_bytes": repr(a.vocab.tokens[tok])})
            break
    else:
        prepare(m)
        t0 = clock()
        mask = fill(m)
        t1 = clock()
        times.append((t1 - t0) / 1e3)
        if any(allowed(mask, e) for e in eog):
            st.sequences_completed += 1
        else:
            st.no_end.append(case.id)
    if times:
        st.first_mask_us.append(times[0])
    st.mask_us.extend(times)
    return times


def _bench_vocab(vocab: Vocab, cases: list[SchemaCase], engines: Sequence[str], budget_s: float,
                 progress: Progress) -> dict[str, Any]:
    stats: dict[str, EngineStats] = {}
    adapters: dict[str, Adapter] = {}
    for name in engines:
        st = stats[name] = EngineStats(name)
        if not engine_available(name):
            st.available, st.error = False, f"{_IMPORTS[name]} is not importable"
            continue
        t0 = time.perf_counter()
        try:
            adapters[name] = ADAPTERS[name](vocab)
        except Exception as e:  # a peer that cannot even load this vocabulary
            st.available, st.error = False, f"setup failed: {type(e).__name__}: {e}"[:300]
            continue
        st.setup_ms = (time.perf_counter() - t0) * 1e3
        st.version = adapters[name].version()
        _say(progress, f"{vocab.model_name}: {name} {st.version} ready ({st.setup_ms:.0f} ms setup)")

    sequences: list[tuple[SchemaCase, list[int]]] = []
    for case in cases:
        if case.instance_text:
            sequences.append((case, vocab.native.tokenize(case.instance_text, False, False)))
    n_tokens = [len(t) for _, t in sequences]
    for k, (case, tokens) in enumerate(sequences):
        for name, a in adapters.items():
            st = stats[name]
            if st.spent_s > budget_s:
                st.skipped_budget += 1
                continue
            t_start = time.perf_counter()
            try:
                t0 = time.perf_counter()
                compiled = a.compile(case.text)
                st.compile_ms.append((time.perf_counter() - t0) * 1e3)
            except Unsupported as e:
                st.unsupported.append((case.id, str(e)))
                st.schemas_run += 1
                st.spent_s += time.perf_counter() - t_start
                continue
            st.schemas_run += 1
            try:
                rejected_before = len(st.rejected)
                times = _run_sequence(a, compiled, tokens, vocab.eog, st, case)
                if len(st.rejected) == rejected_before:
                    st.per_schema[case.id] = (st.compile_ms[-1], times)
            except Exception as e:  # a peer crashing on a schema must not end the run
                st.rejected.append({"schema": case.id, "why": f"exception: {type(e).__name__}: {e}"[:200]})
            if isinstance(a, LlamaCppGbnfAdapter):
                a.release()
            st.spent_s += time.perf_counter() - t_start
        if progress and ((k + 1) % 25 == 0 or k + 1 == len(sequences)):
            progress(f"{vocab.model_name}: {k + 1}/{len(sequences)} schemas; " + ", ".join(
                f"{n} {stats[n].spent_s:.0f}s" for n in adapters))
    for a in adapters.values():
        a.close()
    # The same schemas for every engine: those every available engine compiled and ran through.
    ran = [stats[n].per_schema for n in adapters]
    common = [case.id for case, _ in sequences if ran and all(case.id in r for r in ran)]
    common_report = {"schemas": len(common), "engines": {}}
    for n in adapters:
        comp = [stats[n].per_schema[c][0] for c in common]
        masks = [t for c in common for t in stats[n].per_schema[c][1]]
        common_report["engines"][n] = {"compile_ms": {"p50": _r(_pct(comp, 50)), "p99": _r(_pct(comp, 99))},
                                       "mask_us": {"p50": _r(_pct(masks, 50)), "p99": _r(_pct(masks, 99)),
                                                   "n": len(masks)}}
    return {
        "model": vocab.model_name, "n_vocab": vocab.n_vocab, "sequences": len(sequences),
        "common_subset": common_report,
        "tokens_per_sequence": {"p50": _pct(n_tokens, 50), "max": max(n_tokens) if n_tokens else None,
                                "total": sum(n_tokens)},
        "engines": {name: st.report() for name, st in stats.items()},
    }


# ---------------------------------------------------------------------------
# Decode: unconstrained vs constrained, our engine
# ---------------------------------------------------------------------------

DECODE_PROMPT = ("Describe a hash map as JSON with a title, a one-paragraph summary and a list of "
                 "at least eight detailed steps explaining hashing, buckets, collisions and resizing.")
DECODE_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "summary": {"type": "string"},
                   "steps": {"type": "array", "items": {"type": "string"}}},
    "required": ["title", "summary", "steps"],
}


def _decode_bench(engine: Any, max_tokens: int, repeats: int, progress: Progress) -> dict[str, Any]:
    from ..grammar import Grammar

    grammar = Grammar.from_json_schema(DECODE_SCHEMA)
    messages = [{"role": "user", "content": DECODE_PROMPT}]
    chat = bool(engine.chat_template)

    def run(constrained: bool):
        kw = dict(max_tokens=max_tokens, temperature=0.0, seed=0)
        if constrained:
            kw["grammar"] = grammar
        return engine.chat(messages, **kw) if chat else engine.generate(DECODE_PROMPT, **kw)

    run(False), run(True)  # warm-up: weights in cache, prompt in the prefix cache, grammar compiled
    samples: dict[str, list[Any]] = {"unconstrained": [], "constrained": []}
    for i in range(repeats):
        order = [False, True] if i % 2 == 0 else [True, False]
        for c in order:
            samples["constrained" if c else "unconstrained"].append(run(c).timings)
    out: dict[str, Any] = {"prompt": DECODE_PROMPT, "schema": DECODE_SCHEMA, "max_tokens": max_tokens,
                           "repeats": repeats, "mode": "chat" if chat else "raw"}
    for k, ts in samples.items():
        out[k] = {"decode_tok_s": _r(statistics.median(t.decode_tok_s for t in ts), 2),
                  "runs_tok_s": [_r(t.decode_tok_s, 2) for t in ts],
                  "generated_tokens": int(statistics.median(t.generated_tokens for t in ts)),
                  "forced_tokens": int(statistics.median(t.forced_tokens for t in ts)),
                  "accepted_drafts": int(statistics.median(t.accepted_drafts for t in ts))}
    pairs = [c.decode_tok_s / u.decode_tok_s for c, u in zip(samples["constrained"], samples["unconstrained"])
             if u.decode_tok_s > 0]
    out["ratio"] = _r(statistics.median(pairs)) if pairs else None
    out["paired_ratios"] = [_r(p) for p in pairs]
    out["target"] = TARGETS["constrained_over_unconstrained_tok_s"]
    out["meets_target"] = out["ratio"] is not None and out["ratio"] >= out["target"]
    _say(progress, f"{engine.model_name}: decode unconstrained {out['unconstrained']['decode_tok_s']} tok/s, "
                   f"constrained {out['constrained']['decode_tok_s']} tok/s")
    return out


# ---------------------------------------------------------------------------
# A whole tool call: our engine vs llama-cpp-python + GBNF, same prompt tokens
# ---------------------------------------------------------------------------


def _gbnf_for_call(tools: list[dict], llama_cpp: Any) -> str:
    """GBNF (llama.cpp's converter) for `<tool_call>\\n{"name": …, "arguments": …}\\n</tool_call>`."""
    options = [{"type": "object",
                "properties": {"name": {"const": t["function"]["name"]},
                               "arguments": _close_objects(t["function"].get("parameters") or {"type": "object"})},
                "required": ["name", "arguments"], "additionalProperties": False} for t in tools]
    schema = options[0] if len(options) == 1 else {"anyOf": options}
    body = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)._grammar
    lines = [("call ::=" + line[len("root ::="):]) if line.startswith("root ::=") else line
             for line in body.splitlines()]
    return "\n".join(['root ::= "<tool_call>\\n" call "\\n</tool_call>"'] + lines) + "\n"


def _tool_prompt_tokens(engine: Any, item: Any) -> list[int]:
    """The item's conversation with its tools: the model's chat template when it has one (what
    `Engine.chat(messages, tools=...)` feeds), else a plain Hermes-style prompt for base models."""
    if engine.chat_template:
        return engine._chat_tokens(item.messages, item.tools)
    tools = "\n".join(json.dumps(t, ensure_ascii=False) for t in item.tools)
    question = "\n".join(m["content"] for m in item.messages if m.get("role") == "user")
    text = (f"You may call one of these tools:\n<tools>\n{tools}\n</tools>\nAnswer with one call as "
            f'<tool_call>\n{{"name": ..., "arguments": {{...}}}}\n</tool_call>\n\nUser: {question}\nAssistant: ')
    return engine.tokenize(text)


def _call_of(text: str) -> Optional[dict]:
    from .bfcl_peers import parse_tool_calls

    calls = parse_tool_calls(text)
    return calls[0] if calls else None


def _tool_call_bench(engine: Any, model_name: str, data_dir: str, n_items: int, repeats: int, threads: int,
                     n_ctx: int, max_tokens: int, progress: Progress) -> dict[str, Any]:
    import llama_cpp

    from ..grammar import Grammar
    from .bfcl import load_category

    items = load_category(data_dir, "simple_python")[:n_items]
    llm = llama_cpp.Llama(model_path=str(resolve(model_name)), n_ctx=n_ctx, n_threads=threads,
                          n_threads_batch=threads, flash_attn=False, verbose=False)
    records = []
    for item in items:
        prompt_tokens = _tool_prompt_tokens(engine, item)
        ours_grammar = Grammar.from_tools(item.tools, mode="required")
        gbnf_text = _gbnf_for_call(item.tools, llama_cpp)
        gbnf = llama_cpp.LlamaGrammar.from_string(gbnf_text, verbose=False)

        def ours():
            t0 = time.perf_counter()
            r = engine.generate(prompt_tokens, grammar=ours_grammar, max_tokens=max_tokens, temperature=0.0, seed=0)
            return time.perf_counter() - t0, r.text, r.timings.generated_tokens, r.finish_reason

        def theirs():
            t0 = time.perf_counter()
            r = llm.create_completion(list(prompt_tokens), max_tokens=max_tokens, temperature=0.0, top_k=1,
                                      grammar=gbnf)
            return (time.perf_counter() - t0, r["choices"][0]["text"], r["usage"]["completion_tokens"],
                    r["choices"][0]["finish_reason"])

        ours(), theirs()  # warm-up: the prompt in both prefix caches, our grammar compiled
        runs: dict[str, list] = {"edgeagent": [], "llama_cpp_gbnf": []}
        for i in range(repeats):
            order = [("edgeagent", ours), ("llama_cpp_gbnf", theirs)]
            if i % 2:
                order.reverse()
            for k, fn in order:
                runs[k].append(fn())
        rec: dict[str, Any] = {"id": item.id, "prompt_tokens": len(prompt_tokens)}
        for k, rs in runs.items():
            wall = statistics.median(r[0] for r in rs)
            rec[k] = {"wall_ms": _r(wall * 1e3, 1), "generated_tokens": rs[-1][2], "finish_reason": rs[-1][3],
                      "text": rs[-1][1][:300], "call": _call_of(rs[-1][1])}
        pairs = [a[0] / b[0] for a, b in zip(runs["edgeagent"], runs["llama_cpp_gbnf"]) if b[0] > 0]
        rec["ratio"] = _r(statistics.median(pairs)) if pairs else None
        rec["same_call"] = rec["edgeagent"]["call"] == rec["llama_cpp_gbnf"]["call"]
        records.append(rec)
        _say(progress, f"{model_name}: tool call {item.id}: ours {rec['edgeagent']['wall_ms']} ms, "
                       f"GBNF {rec['llama_cpp_gbnf']['wall_ms']} ms, ratio {rec['ratio']}")
    del llm
    ratios = [r["ratio"] for r in records if r["ratio"] is not None]
    total_ours = sum(r["edgeagent"]["wall_ms"] for r in records)
    total_theirs = sum(r["llama_cpp_gbnf"]["wall_ms"] for r in records)
    ratio = statistics.median(ratios) if ratios else None
    return {"items": records, "repeats": repeats, "max_tokens": max_tokens, "threads": threads,
            "prompt": ("the model's chat template with the item's tools" if engine.chat_template else
                       "a plain tool prompt (the model has no chat template)") + "; the same token ids for both",
            "ratio_median": _r(ratio), "ratio_of_totals": _r(total_ours / total_theirs) if total_theirs else None,
            "target": TARGETS["tool_call_wall_over_gbnf"],
            "meets_target": ratio is not None and ratio <= TARGETS["tool_call_wall_over_gbnf"]}


# ---------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------


def _targets_beside(vocab_report: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, e in vocab_report["engines"].items():
        if not e.get("available"):
            continue
        out[name] = {
            "mask_p50_us": {"measured": e["mask_us"]["p50"], "target": TARGETS["mask_p50_us"],
                            "met": e["mask_us"]["p50"] is not None and e["mask_us"]["p50"] <= TARGETS["mask_p50_us"]},
            "mask_p99_us": {"measured": e["mask_us"]["p99"], "target": TARGETS["mask_p99_us"],
                            "met": e["mask_us"]["p99"] is not None and e["mask_us"]["p99"] <= TARGETS["mask_p99_us"]},
            "compile_p50_ms": {"measured": e["compile_ms"]["p50"], "target": TARGETS["compile_p50_ms"],
                               "met": e["compile_ms"]["p50"] is not None
                               and e["compile_ms"]["p50"] <= TARGETS["compile_p50_ms"]},
        }
    return out


def run_grammar_bench(models: Sequence[str], *, engines: Sequence[str] = ENGINES, data_dir: Optional[str] = None,
                      limit: Optional[int] = None, seed: int = 0, budget_s: float = 120.0,
                      decode: bool = True, decode_tokens: int = 96, tool_calls: int = 4, repeats: int = 3,
                      threads: int = 2, n_ctx: int = 4096, progress: Progress = None) -> dict[str, Any]:
    for m in models:
        if m not in REGISTRY and not (m.endswith(".gguf") and os.path.isfile(m)):
            raise UserInputError(f"unknown model {m!r}; bundled models: {', '.join(REGISTRY)}")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise UserInputError(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    if limit is not None and limit < 1:
        raise UserInputError("--limit must be >= 1")
    if budget_s <= 0 or repeats < 1 or threads < 1 or tool_calls < 0 or decode_tokens < 2:
        raise UserInputError("--budget-s, --repeats and --threads must be positive, --tool-calls >= 0, "
                             "--decode-tokens >= 2")
    data_dir = data_dir or _default_data()
    cases = collect_schemas(data_dir, limit=limit, seed=seed)
    for i, case in enumerate(cases):
        case.instance_text, case.instance_error = make_instance(case.schema, seed + i)
    no_instance = [{"schema": c.id, "error": c.instance_error} for c in cases if not c.instance_text]
    _say(progress, f"{len(cases)} schemas ({len(no_instance)} without a generated instance), "
                   f"engines: {', '.join(engines)}")

    report: dict[str, Any] = {
        "bench": "grammar", "data": data_dir, "schemas": len(cases), "limit": limit, "seed": seed,
        "budget_s_per_engine_and_vocab": budget_s, "threads": threads, "cpus": os.cpu_count(),
        "load_avg_before": round(os.getloadavg()[0], 2), "engines_requested": list(engines),
        "schemas_without_instance": no_instance, "targets": TARGETS,
        "method": {"mask": "one Python call per step giving the allowed set over the whole vocabulary, "
                           "every step of one generated valid instance per schema, same tokens for every engine",
                   "compile": "schema text -> matcher-ready grammar on the vocabulary; per-vocabulary setup apart"},
        "vocabularies": [], "decode": [], "tool_call": [],
    }
    for model_name in models:
        _say(progress, f"loading vocabulary of {model_name}")
        vocab = load_vocab(model_name)
        vr = _bench_vocab(vocab, cases, engines, budget_s, progress)
        vr["targets"] = _targets_beside(vr)
        report["vocabularies"].append(vr)
        if vocab._llama is not None:
            vocab._llama.close()
        del vocab
    if decode or tool_calls:
        from ..engine import Engine

        for model_name in models:
            engine = Engine(model_name, n_ctx=n_ctx, n_threads=threads)
            if decode:
                report["decode"].append({"model": model_name,
                                         **_decode_bench(engine, decode_tokens, repeats, progress)})
            if tool_calls and "llama_cpp_gbnf" in engines and engine_available("llama_cpp_gbnf"):
                report["tool_call"].append({"model": model_name,
                                            **_tool_call_bench(engine, model_name, data_dir, tool_calls, repeats,
                                                               threads, n_ctx, 256, progress)})
            del engine
    report["load_avg_after"] = round(os.getloadavg()[0], 2)
    return report
