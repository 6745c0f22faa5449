"""`Engine`: a model loaded into the native decode loop, with a KV prefix cache.

    engine = Engine()                       # the default bundled model
    out = engine.generate("def fib(n):", max_tokens=64)
    out = engine.chat([{"role": "user", "content": "hi"}])
    for piece in engine.stream("Once upon a time"): print(piece, end="")

Every result carries timings (prompt tokens, cached tokens, prefill and decode tok/s,
time to first token). Requests that start like the previous one (same system prompt
and tool block) reuse its KV entries instead of prefilling them again.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Optional, Sequence, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import _core
from .backend import open_backend
from .chat_template import render_chat
from .errors import AdapterError, DecodeError, InvalidParameterError
from .grammar import Grammar
from .models import prefill_copy, resolve

__all__ = ["Engine", "Generation", "Timings", "GenerationOptions"]

COMPILED_GRAMMARS_KEPT = 64  # per Engine (the Agent and the Planner keep their own small LRUs of grammars)


class GenerationOptions(BaseModel):
    """What a generate/chat/stream call accepts besides the prompt; unknown names are refused."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(256, ge=1)
    stop: list[str] = Field(default_factory=list)
    temperature: float = Field(0.0, ge=0.0, le=100.0)
    top_k: int = Field(0, ge=0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    min_p: float = Field(0.0, ge=0.0, lt=1.0)
    repeat_penalty: float = Field(1.0, ge=1.0)
    repeat_last_n: int = Field(64, ge=0)
    seed: Optional[int] = Field(None, ge=0, lt=2**64)
    ignore_eos: bool = False
    jump_forward: bool = True  # with a grammar: decode forced text in one batch
    sparse_logits: bool = True  # with a grammar: where it allows few tokens, compute only their logits
    # with a grammar: the token a forced run leaves to the model (` ` before a number) is put
    # in the run's batch, kept if the model picks it (one step less), else dropped
    boundary_draft: bool = True
    # End (finish_reason "repetition") once the output ends with a block of 1-16 tokens
    # written this many times in a row (a list looping on one entry); 0: never.
    stop_repeats: int = Field(0, ge=0, le=4096)
    end_bias: float = Field(0.0, ge=-100.0, le=100.0)  # with a grammar: push toward ending where it may end
    logit_bias: dict[int, float] = Field(default_factory=dict)  # token id -> added to its logit at every step
    adapter: Optional[str] = None  # name of a LoRA adapter loaded with Engine.load_adapter (GGUF models)

    @classmethod
    def parse(cls, options: dict[str, Any]) -> "GenerationOptions":
        if isinstance(options.get("stop"), str):
            options = {**options, "stop": [options["stop"]]}
        try:
            parsed = cls(**options)
        except ValidationError as e:
            problems = []
            for err in e.errors():
                name = ".".join(str(p) for p in err["loc"]) or "options"
                if err["type"] == "extra_forbidden":
                    problems.append(f"unknown parameter '{name}' (accepted: {', '.join(cls.model_fields)})")
                else:
                    problems.append(f"parameter '{name}': {err['msg']}")
            raise InvalidParameterError("; ".join(problems)) from None
        if any(s == "" for s in parsed.stop):
            raise InvalidParameterError("parameter 'stop': stop strings must not be empty")
        return parsed

    def to_native(self) -> "_core.GenerateParams":
        p = _core.GenerateParams()
        p.max_tokens = self.max_tokens
        p.stop = list(self.stop)
        p.ignore_eos = self.ignore_eos
        p.jump_forward = self.jump_forward
        p.sparse_logits = self.sparse_logits
        p.boundary_draft = self.boundary_draft
        p.stop_repeats = self.stop_repeats
        p.end_bias = self.end_bias
        p.logit_bias = sorted(self.logit_bias.items())
        s = p.sampling
        s.temperature = self.temperature
        s.top_k = self.top_k
        s.top_p = self.top_p
        s.min_p = self.min_p
        s.repeat_penalty = self.repeat_penalty
        s.repeat_last_n = self.repeat_last_n
        s.seed = self.seed if self.seed is not None else int.from_bytes(os.urandom(8), "little")
        p.sampling = s
        return p


@dataclass(frozen=True)
class Timings:
    prompt_tokens: int
    cached_tokens: int
    generated_tokens: int
    forced_tokens: int  # of the generated tokens, those a grammar forced (jump-forward)
    sparse_steps: int  # steps whose logits were computed for the grammar's allowed tokens only
    drafted_tokens: int  # boundary drafts evaluated (GenerationOptions.boundary_draft)
    accepted_drafts: int  # of those, the model's own pick (a step saved)
    prefill_model: bool  # the prompt was evaluated by the prefill model (Engine(prefill_model=...))
    prefill_ms: float
    ttft_ms: float
    decode_ms: float
    total_ms: float
    prefill_tok_s: float
    decode_tok_s: float

    @classmethod
    def from_native(cls, t: "_core.Timings") -> "Timings":
        return cls(t.prompt_tokens, t.cached_tokens, t.generated_tokens, t.forced_tokens, t.sparse_steps,
                   t.drafted_tokens, t.accepted_drafts, t.prefill_model, t.prefill_ms, t.ttft_ms, t.decode_ms,
                   t.total_ms, t.prefill_tok_s, t.decode_tok_s)


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: list[int]
    finish_reason: str  # "stop", "eos", "length", "context", "cancelled", "gated" (see Engine.chat), "repetition"
    timings: Timings
    stop_sequence: str = ""
    model: str = ""
    gate_token: int = -1  # with Engine.chat(gate_tokens=...): the model's own first token

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Pending:
    """What `stream()` hands between the decode thread and the consumer."""

    chunks: "queue.Queue[Optional[str]]" = field(default_factory=queue.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    result: Optional[Generation] = None
    error: Optional[BaseException] = None


class Engine:
    """A GGUF model in the native decode loop. Thread-safe: requests run one at a time."""

    def __init__(self, model: Union[str, os.PathLike[str], None] = None, *, n_ctx: int = 4096,
                 n_threads: Optional[int] = None, n_batch: int = 512, flash_attn: bool = False,
                 prefill_model: Union[str, os.PathLike[str], None] = "auto"):
        """`prefill_model`: a copy of `model` stored in another type (a bundled name or a
        GGUF path) that evaluates the prompts, where its batches are faster, while `model`
        samples (README, "Models"); "auto": the BF16 copy for the default model on a CPU
        with AVX512_BF16, once pulled (models.prefill_copy); None: none."""
        if not isinstance(n_ctx, int) or n_ctx < 16:
            raise InvalidParameterError(f"n_ctx must be an integer >= 16, got {n_ctx!r}")
        if n_threads is not None and (not isinstance(n_threads, int) or n_threads < 1):
            raise InvalidParameterError(f"n_threads must be a positive integer, got {n_threads!r}")
        if not isinstance(n_batch, int) or n_batch < 1:
            raise InvalidParameterError(f"n_batch must be a positive integer, got {n_batch!r}")
        # A directory of another format (ONNX) runs in its backend; the vocabulary,
        # templates, grammar and sampling stay the native core's.
        backend = open_backend(model, n_ctx=n_ctx, n_threads=n_threads)
        self.backend = backend.name if backend is not None else "llama.cpp"
        self.model_path: Path = backend.path if backend is not None else resolve(model)
        self.model_name = os.fspath(model) if model is not None else self.model_path.stem
        if prefill_model == "auto":
            prefill_model = prefill_copy(model)
        if backend is not None and prefill_model is not None:
            raise InvalidParameterError(f"a prefill model applies to GGUF models; this engine runs {self.backend}")
        if backend is not None:
            self._model = backend.vocab
            self._session = backend
        else:
            self._model = _core.Model.load(str(self.model_path))
            train = self._model.n_ctx_train
            params = _core.SessionParams()
            params.n_ctx = min(n_ctx, train) if train > 0 else n_ctx
            params.n_threads = n_threads or 0
            params.n_batch = n_batch
            params.flash_attn = bool(flash_attn)
            self._session = _core.Session(self._model, params)
        self.prefill_model_path: Optional[Path] = resolve(prefill_model) if prefill_model is not None else None
        if self.prefill_model_path is not None:
            self._session.set_prefill_model(_core.Model.load(str(self.prefill_model_path)))
        self._adapters: dict[str, tuple["_core.LoraAdapter", float]] = {}
        self._lock = threading.Lock()
        self.chat_template: str = self._model.chat_template
        # Compiled grammars by grammar, most recent last; bounded, since each holds its
        # token-mask caches (an app that builds grammars per request would otherwise grow).
        self._compiled: "OrderedDict[int, tuple[Grammar, _core.CompiledGrammar]]" = OrderedDict()
        self._tokens_starting: dict[tuple[str, ...], list[int]] = {}

    # -- model facts ---------------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return self._session.n_ctx

    @property
    def n_vocab(self) -> int:
        return self._model.n_vocab

    @property
    def native_model(self) -> "_core.Model":
        return self._model

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "path": str(self.model_path), "backend": self.backend,
                "description": self._model.description,
                "n_params": self._model.n_params, "n_vocab": self.n_vocab, "n_ctx": self.n_ctx,
                "n_ctx_train": self._model.n_ctx_train, "has_chat_template": bool(self.chat_template)}

    # -- tokens --------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool = True, parse_special: bool = False) -> list[int]:
        return self._model.tokenize(text, add_special, parse_special)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._model.detokenize(list(tokens), False).decode("utf-8", errors="replace")

    def tokens_starting(self, starts: Sequence[str]) -> list[int]:
        """Ids of the tokens whose text, leading whitespace aside, starts with one of
        `starts` (e.g. the tokens that begin a tool call, for `chat(gate_tokens=...)`).
        Computed once per `starts`: it reads the whole vocabulary."""
        key = tuple(starts)
        if not key or not all(isinstance(x, str) and x for x in key):
            raise InvalidParameterError("starts must be non-empty strings")
        ids = self._tokens_starting.get(key)
        if ids is None:
            wanted = tuple(x.encode("utf-8") for x in key)
            m = self._model
            ids = [t for t in range(m.n_vocab) if m.token_bytes(t).lstrip().startswith(wanted)]
            self._tokens_starting[key] = ids
        return ids

    def _prompt_tokens(self, prompt: Union[str, Sequence[int]]) -> list[int]:
        if isinstance(prompt, str):
            if not prompt:
                raise InvalidParameterError("the prompt is empty")
            return self._model.tokenize(prompt, True, False)
        tokens = list(prompt)
        if not all(isinstance(t, int) for t in tokens):
            raise InvalidParameterError("a token prompt must be a list of integers")
        return tokens

    def render_chat(self, messages: Sequence[dict], *, tools: Optional[Sequence[dict]] = None,
                    add_generation_prompt: bool = True) -> str:
        """The model's own chat template applied to `messages` (and tools)."""
        m = self._model
        return render_chat(self.chat_template, messages, tools=tools, add_generation_prompt=add_generation_prompt,
                           bos_token=m.token_text(m.bos) if m.bos >= 0 else "",
                           eos_token=m.token_text(m.eos) if m.eos >= 0 else "")

    def _chat_tokens(self, messages: Sequence[dict], tools: Optional[Sequence[dict]]) -> list[int]:
        text = self.render_chat(messages, tools=tools)
        m = self._model
        bos_text = m.token_text(m.bos) if m.bos >= 0 else ""
        # Templates that write the BOS text themselves must not get a second one.
        add_bos = m.adds_bos and not (bos_text and text.startswith(bos_text))
        return m.tokenize(text, add_bos, True)

    # -- generation ----------------------------------------------------------
    def matcher(self, grammar: Grammar) -> "_core.GrammarMatcher":
        """A fresh matcher of `grammar` on this model's vocabulary (compiled once per grammar)."""
        if not isinstance(grammar, Grammar):
            raise InvalidParameterError(f"grammar must be an edgeagent.Grammar, not {type(grammar).__name__}")
        entry = self._compiled.get(id(grammar))
        if entry is None or entry[0] is not grammar:
            entry = (grammar, _core.compile_grammar(self._model, grammar._native))
            self._compiled[id(grammar)] = entry
            if len(self._compiled) > COMPILED_GRAMMARS_KEPT:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(id(grammar))
        return _core.GrammarMatcher(entry[1])

    # -- LoRA adapters -------------------------------------------------------
    def load_adapter(self, path: Union[str, os.PathLike[str]], name: Optional[str] = None,
                     scale: float = 1.0) -> str:
        """Loads a llama.cpp LoRA adapter (GGUF) over this model once; requests pick it
        with `adapter=name` (the base stays loaded, adapters switch per request).
        Returns the name (default: the file's stem)."""
        if self.backend != "llama.cpp":
            raise AdapterError(f"LoRA adapters apply to GGUF models; this engine runs {self.backend}")
        if not isinstance(scale, (int, float)) or not -100.0 <= float(scale) <= 100.0:
            raise InvalidParameterError(f"adapter scale must be a number in [-100, 100], got {scale!r}")
        name = name if name is not None else Path(os.fspath(path)).stem
        if not isinstance(name, str) or not name:
            raise InvalidParameterError("adapter name must be a non-empty string")
        if name in self._adapters:
            raise AdapterError(f"an adapter named '{name}' is already loaded (unload it first)")
        adapter = _core.LoraAdapter.load(self._model, os.fspath(Path(os.fspath(path)).expanduser()))
        self._adapters[name] = (adapter, float(scale))
        return name

    def unload_adapter(self, name: str) -> None:
        if name not in self._adapters:
            raise AdapterError(f"no adapter named '{name}' is loaded")
        with self._lock:
            del self._adapters[name]

    @property
    def adapters(self) -> dict[str, str]:
        """Loaded adapters: name → file path."""
        return {name: a.path for name, (a, _) in self._adapters.items()}

    def _native_params(self, options: GenerationOptions) -> "_core.GenerateParams":
        native = options.to_native()
        if options.adapter is not None:
            entry = self._adapters.get(options.adapter)
            if entry is None:
                loaded = ", ".join(self._adapters) or "none"
                raise AdapterError(f"no adapter named '{options.adapter}' is loaded (loaded: {loaded})")
            native.adapter, native.adapter_scale = entry
        return native

    def _run(self, tokens: list[int], options: GenerationOptions,
             on_text: Optional[Callable[[str], Any]] = None, grammar: Optional[Grammar] = None,
             disabled_tools: Sequence[str] = (), gate: Optional[tuple[int, list[int]]] = None) -> Generation:
        matcher = self.matcher(grammar) if grammar is not None else None
        if disabled_tools:
            if matcher is None:
                raise InvalidParameterError("disabled_tools needs a tool-call grammar (grammar=Grammar.from_tools(...))")
            for name in disabled_tools:  # the grammar's tool gates (unknown names: GrammarError)
                matcher.set_tool_enabled(name, False)
        native = self._native_params(options)
        if gate is not None:
            native.gate_position, native.gate_tokens = gate
        pieces = None
        if on_text is not None:
            def pieces(piece: bytes) -> bool:  # the native text stream ends pieces on whole UTF-8 characters
                return on_text(piece.decode("utf-8", errors="replace")) is not False
        with self._lock:
            r = self._session.generate(tokens, native, pieces, matcher)
        return Generation(text=r.text.decode("utf-8", errors="replace"), tokens=list(r.tokens),
                          finish_reason=r.finish_reason, timings=Timings.from_native(r.timings),
                          stop_sequence=r.stop_sequence, model=self.model_name, gate_token=r.gate_token)

    def generate(self, prompt: Union[str, Sequence[int]], *, grammar: Optional[Grammar] = None,
                 disabled_tools: Sequence[str] = (), **options: Any) -> Generation:
        """Continues a raw prompt (text or token ids), under `grammar` if given; with a
        tool-call grammar, `disabled_tools` are switched off (no call can name them).
        Options: see `GenerationOptions`."""
        return self._run(self._prompt_tokens(prompt), GenerationOptions.parse(options), grammar=grammar,
                         disabled_tools=disabled_tools)

    def chat(self, messages: Sequence[dict], *, tools: Optional[Sequence[dict]] = None,
             grammar: Optional[Grammar] = None, prefix: str = "", disabled_tools: Sequence[str] = (),
             gate_tokens: Optional[Collection[int]] = None, on_text: Optional[Callable[[str], Any]] = None,
             **options: Any) -> Generation:
        """Answers a conversation using the model's own chat template, under `grammar` if
        given (`disabled_tools`: as in generate). `prefix`: the start of the reply,
        written for the model (the output continues it and does not repeat it).

        `gate_tokens`: the reply goes on only if the model's own first token (greedy, no
        grammar, before `prefix`) is one of these token ids; otherwise nothing is
        generated and finish_reason is "gated". Either way `gate_token` tells which token
        it was. The decision is read off the same batch that evaluates the prompt, the
        prefix and the text the grammar forces at the start.

        `on_text`: called with each piece of the output as it is decoded (whole UTF-8
        characters); returning False ends the generation there (finish_reason
        "cancelled"), before the last token is evaluated."""
        if not isinstance(prefix, str):
            raise InvalidParameterError("prefix must be a string")
        tokens = self._chat_tokens(messages, tools)
        gate = None
        if gate_tokens is not None:
            ids = list(gate_tokens)
            if not all(isinstance(t, int) and 0 <= t < self.n_vocab for t in ids):
                raise InvalidParameterError(f"gate_tokens must be token ids in [0, {self.n_vocab})")
            gate = (len(tokens) - 1, sorted(set(ids)))
        # The reply's prefix is tokenized on its own (as plain text, no special tokens),
        # so the rendered conversation keeps the same tokens, hence the prefix cache.
        if prefix:
            tokens += self._model.tokenize(prefix, False, False)
        if on_text is not None and not callable(on_text):
            raise InvalidParameterError(f"on_text must be callable, got {type(on_text).__name__}")
        return self._run(tokens, GenerationOptions.parse(options), on_text, grammar=grammar,
                         disabled_tools=disabled_tools, gate=gate)

    def json(self, prompt: str, schema: Any, **options: Any) -> Any:
        """Asks for JSON matching `schema` (dict, JSON text or pydantic model class) and
        returns it parsed and validated (a pydantic model instance for a model class)."""
        import jsonschema

        grammar = Grammar.from_json_schema(schema)
        messages = [{"role": "user", "content": prompt}]
        out = self.chat(messages, grammar=grammar, **options) if self.chat_template else \
            self.generate(prompt, grammar=grammar, **options)
        if out.finish_reason != "eos":
            raise DecodeError(f"the JSON was not finished (generation ended by '{out.finish_reason}' after "
                              f"{out.timings.generated_tokens} tokens); raise max_tokens")
        value = json.loads(out.text)
        if isinstance(schema, type) and hasattr(schema, "model_validate"):
            return schema.model_validate(value)
        schema_dict = json.loads(schema) if isinstance(schema, str) else schema
        jsonschema.validate(value, schema_dict)  # the grammar guarantees it; checked all the same
        return value

    def stream(self, prompt: Union[str, Sequence[int], None] = None, *, messages: Optional[Sequence[dict]] = None,
               tools: Optional[Sequence[dict]] = None, grammar: Optional[Grammar] = None,
               **options: Any) -> "TextStream":
        """Like generate (or chat, with `messages=`), yielding text pieces as they are decoded."""
        if (prompt is None) == (messages is None):
            raise InvalidParameterError("stream() takes either a prompt or messages=, not both")
        tokens = self._chat_tokens(messages, tools) if messages is not None else self._prompt_tokens(prompt)
        return TextStream(self, tokens, GenerationOptions.parse(options), grammar)

    def reset(self) -> None:
        """Forgets the prefix cache."""
        with self._lock:
            self._session.reset()


class TextStream:
    """Iterates over the text of a generation as it is decoded; `.result` once done."""

    def __init__(self, engine: Engine, tokens: list[int], options: GenerationOptions,
                 grammar: Optional[Grammar] = None):
        self._pending = _Pending()
        pending = self._pending

        def on_text(piece: str) -> bool:
            pending.chunks.put(piece)
            return not pending.cancel.is_set()

        def work() -> None:
            try:
                pending.result = engine._run(tokens, options, on_text, grammar)
            except BaseException as e:  # handed to the consumer, raised there
                pending.error = e
            finally:
                pending.chunks.put(None)

        self._thread = threading.Thread(target=work, name="edgeagent-decode", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[str]:
        try:
            while (piece := self._pending.chunks.get()) is not None:
                yield piece
        finally:
            self._pending.cancel.set()  # a consumer that stops early cancels the decode
            self._thread.join()
        if self._pending.error is not None:
            raise self._pending.error

    @property
    def result(self) -> Generation:
        """The finished generation (waits for it)."""
        self._thread.join()
        if self._pending.error is not None:
            raise self._pending.error
        assert self._pending.result is not None
        return self._pending.result
