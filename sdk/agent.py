"""`Agent.call`: grammar-constrained function calling.

    agent = Agent()                                   # the default bundled model
    result = agent.call("Weather in Oslo?", tools=[get_weather])
    result.calls   # [ToolCall(name="get_weather", arguments={"city": "Oslo"})]

The tools are rendered by the model's own chat template (Qwen: a `<tools>` block in the
system turn); the output is constrained by a tool-call grammar, so every call names a
known tool and its arguments match the tool's schema. The system-and-tools prefix stays
in the KV prefix cache across calls with the same tools, and the grammar's forced text
(`{"name": "`, `", "arguments": `...) is decoded in one batch (jump-forward).

One turn (README, "How Agent.call decides"):
  1. relevance (auto mode): no tool description close to the query (sentence
     embeddings; less close will do where the query names a tool's subject) means a text
     answer; tools far below the best match, for the query and each of its sentences,
     are switched off. The embedding model reads English only: a query in another
     language is judged by the model alone.
  2. intent (auto mode): the first token of the unconstrained reply, read off the batch
     that evaluates the query and the call's opening (Engine.chat gate_tokens). The model
     starts a call in some shape (a ```json fence, `<tool_call>`, a bare object) or
     writes text.
  3. the calls, in a ```json fence the reply is started with: a JSON list of calls when
     parallel calls are allowed, one call object otherwise, under the tool grammar.
  4. the list checked against the query (grounding.py): calls that bring nothing the
     query states are dropped, and the list is continued while the next call does.
  5. (auto mode) calls that invent a value their tool needs are left out; with none
     left, or none stating anything of the query, the answer is in text.
Why the JSON fence and not Qwen's `<tool_call>` blocks (call_format="hermes", still
available): the 0.5B model writes its calls as a fenced JSON object when left free, and
after a `<tool_call>` block it almost always starts another one, whether or not the
query asks for more, so the block format cannot tell one call from several.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from .chat_template import checked_messages
from .engine import Engine, Generation
from .errors import ChatTemplateError, ContextOverflowError, InvalidParameterError, ToolArgumentError
from .datetimes import at
from .formats import conformed, dates_as_told, unit_registry
from .grammar import TOOL_MODES, Grammar
from .grounding import (QueryFacts, adds_to_earlier, call_parts, conversation_facts, crossed, doubled_value,
                        flags_as_asked, grounded_arguments, invented_number, invented_text, is_default, is_english,
                        leaf_values, leaves_unused, measures_another, misplaced_number, name_words, option_phrases,
                        padded_words, says, schema_has, word_in)
from .guard import DeniedCall, Guard, GuardEvent, disabled_tools, narrowed_tool_schema
from .tool import Tool, ToolRegistry

if TYPE_CHECKING:
    from .toolrag import ToolRAG

__all__ = ["Agent", "ToolCall", "CallResult", "DeniedCall"]

CALL_FORMATS = ("json", "hermes")
# Asks for the one decision the model must make beyond what its template says: how many
# calls. (Qwen's template puts it before the tool list.)
CALL_GUIDE = ("You are a helpful assistant with access to functions. Reply with a JSON list of the function calls "
              "the request needs: one call for each item, place, value or task the user asks about, and no more.")
_FENCE = "```json\n"
# Every decode of a turn ends once its output repeats a block of tokens this many times in
# a row (GenerationOptions.stop_repeats): the 0.5B model can fill a list with one entry
# (`"start_board": [0, 0, 0, ...`) up to max_tokens, ~10 s; the call cut short is left out.
STOP_REPEATS = 16
# Auto mode declines (answers in text) when no tool's description is at least this close
# (cosine of all-MiniLM-L6-v2 embeddings) to the query. The bar only has to turn away the
# plainly unrelated: past it, the calls are judged against the query (step 6 of the
# README: invented values, another quantity measured), which declines most of the rest.
# Short everyday requests match an API description only in part ("how is AAPL trading
# today?" 0.31 against a stock price tool, "I have chicken and rice, what can I cook?"
# 0.29): at 0.37 the gate declined 7 of 30 such requests written here, which with the
# gate off got their call; at 0.25 BFCL dev irrelevance keeps 98/120 (100 at 0.37).
RELEVANCE_THRESHOLD = 0.25
# ...or this close where the query names the tool's subject (a telling word of its name:
# "add 'go shopping' to my todo list" against `todo`, 0.32): a short everyday request
# matches a long API description only in part. On the BFCL dev split this let 3 more
# simple items be called and 1 more irrelevance item (an NBA question against an NBA
# stats tool); 5 other irrelevance items it let through were declined at step 2 or 5.
# Lower still than the plain bar: a short request is embedded by its topic ("any news
# about electric cars?" scores 0.14 against a news tool); below 0.2, one BFCL dev
# irrelevance item names a tool ("the gold price" against a bond price tool, 0.17), and
# step 6 declines it.
NAMED_RELEVANCE_THRESHOLD = 0.1
# ...and only tools within this margin of the best match may be called: a tool whose
# match, to the query or to one of its sentences, is that close. The embedding's first
# choice was right on 97/100 BFCL dev "multiple" items where the model alone picked a wrong
# tool on ~25%; 0.25 keeps every needed tool on 100% of those. A request of several tasks
# matches each task's tool only in part: against the whole query alone 13/100 BFCL dev
# parallel_multiple items lost a needed tool, against its sentences too 1/100 (and the
# "multiple" items kept 38 unneeded tools on instead of 35).
RETRIEVAL_MARGIN = 0.25
# A library of tools too big for the prompt (the context less REPLY_ROOM) is narrowed to
# at most this many best matches (edgeagent.ToolRAG): every needed tool is among the 8
# best for ~95% of the requests of `edgeagent eval toolrag`, and each turn then evaluates
# its own tool list (~150 tokens a tool, ~7 ms a token on 2 cores) instead of a cached one.
AUTO_TOP_K = 8
# What the tool list must leave free in the context for the reply (at most max_tokens).
REPLY_ROOM = 256
_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+")
_CALL_BLOCK = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)
# First output text that shows the model is starting a tool call, in whatever shape.
CALL_STARTS = ("<tool_call>", "```", "{", "[")
# Where a text answer ends: the start of a call written as text.
TEXT_ENDS = ("```json", "<tool_call>")
# Told after the conversation when the turn is answered in text. Under CALL_GUIDE alone the
# 0.5B model, kept from starting a call, still means to write one: of its text answers to
# BFCL dev irrelevance items 22/92 began with the nearest token to a fence ("Mark the
# function as `distance_calculator.calculate`...", "Mark Zuckerberg won the World Cup
# 2022.") and 3 more wrote "you can use the following function call:"; told this, 0/99.
TEXT_GUIDE = "Answer the user yourself, in plain words, without calling a function."


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class CallResult:
    calls: list[ToolCall]
    text: str  # free text the model wrote instead of (or before) calls
    generation: Generation = field(repr=False)
    truncated: bool = False  # a last call was cut off by max_tokens (and left out)
    denied: list[DeniedCall] = field(default_factory=list)  # calls the guard refused (with guard=)
    disabled_tools: list[str] = field(default_factory=list)  # switched off in the grammar (guard, tool retrieval)
    left_out_tools: list[str] = field(default_factory=list)  # not in the prompt (top_k, or a library too big for it)
    elapsed_s: Optional[float] = None  # Agent.call's wall time: every decode of the turn, and grounding
    turn_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8], repr=False)  # unique ids for `message`

    @property
    def latency_s(self) -> float:
        """The turn's time; `generation` holds the timings of its last decode only (a turn
        may decode several times: a call more, a text answer after a declined call)."""
        return self.elapsed_s if self.elapsed_s is not None else self.generation.timings.total_ms / 1000.0

    @property
    def message(self) -> dict[str, Any]:
        """This turn as the assistant message to append to the conversation (OpenAI's form:
        each call with an id for the `tool` message that answers it, its arguments a JSON string)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.calls:
            message["tool_calls"] = [
                {"id": f"call_{self.turn_id}_{i}", "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}}
                for i, c in enumerate(self.calls, 1)]
        return message

    def to_dict(self) -> dict[str, Any]:
        return {"calls": [c.to_dict() for c in self.calls], "text": self.text, "message": self.message,
                "truncated": self.truncated,
                "denied": [d.to_dict() for d in self.denied], "disabled_tools": self.disabled_tools,
                "left_out_tools": self.left_out_tools,
                "finish_reason": self.generation.finish_reason, "latency_s": self.latency_s,
                "timings": self.generation.to_dict()["timings"]}


def _timed(method: Callable[..., CallResult]) -> Callable[..., CallResult]:
    """`method` with its wall time stored in the CallResult it returns (elapsed_s)."""
    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> CallResult:
        start = time.perf_counter()
        result = method(*args, **kwargs)
        return replace(result, elapsed_s=time.perf_counter() - start)
    return timed


def _registry(tools: Union[ToolRegistry, Iterable[Any]]) -> ToolRegistry:
    if isinstance(tools, ToolRegistry):
        return tools
    if isinstance(tools, (str, bytes, dict)) or not isinstance(tools, Iterable):
        one = " (one tool dict? put it in a list)" if isinstance(tools, dict) else ""
        raise InvalidParameterError(f"tools must be a list of tools (functions, Tool objects or OpenAI dicts){one}")
    return ToolRegistry(tools)  # refuses invalid schemas and duplicate names


class Agent:
    """Function calling on one model. Thread-safe through its Engine."""

    def __init__(self, model: Union[str, None] = None, *, engine: Optional[Engine] = None,
                 tools: Union[ToolRegistry, Iterable[Any], None] = None, n_ctx: int = 4096,
                 n_threads: Optional[int] = None, call_format: str = "json",
                 relevance_threshold: Optional[float] = RELEVANCE_THRESHOLD,
                 prefill_model: Union[str, None] = "auto"):
        if relevance_threshold is not None and not (isinstance(relevance_threshold, (int, float)) and
                                                    not isinstance(relevance_threshold, bool) and
                                                    -1.0 <= relevance_threshold <= 1.0):
            raise InvalidParameterError(f"relevance_threshold must be a cosine between -1 and 1 (or None), "
                                        f"got {relevance_threshold!r}")
        if call_format not in CALL_FORMATS:
            raise InvalidParameterError(f"call_format must be one of {', '.join(CALL_FORMATS)}, got {call_format!r}")
        if engine is not None and prefill_model not in (None, "auto"):
            raise InvalidParameterError("prefill_model goes to the Engine when an engine is given")
        self.engine = engine if engine is not None else Engine(model, n_ctx=n_ctx, n_threads=n_threads,
                                                               prefill_model=prefill_model)
        if "tools" not in self.engine.chat_template:
            raise ChatTemplateError(f"model {self.engine.model_name} has no chat template with a tool format; "
                                    f"function calling needs one (e.g. the default Qwen model)")
        self.tools = _registry(tools) if tools is not None else ToolRegistry()
        self.call_format = call_format
        self.relevance_threshold = relevance_threshold  # None: no embedding gate in auto mode
        self._tool_vectors: dict[str, Any] = {}  # tool text -> embedding
        self._grammars: "OrderedDict[str, Grammar]" = OrderedDict()  # small LRU: tool sets change rarely
        self._rags: "OrderedDict[str, Any]" = OrderedDict()  # tool libraries too big for the prompt, indexed

    def _grammar(self, schemas: list[dict], mode: str, parallel: Union[bool, int], format: str) -> Grammar:
        key = json.dumps([schemas, mode, parallel, format], sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            grammar = Grammar.from_tools(schemas, mode=mode, parallel=parallel, format=format)
            self._grammars[key] = grammar
            if len(self._grammars) > 32:
                self._grammars.popitem(last=False)
        else:
            self._grammars.move_to_end(key)
        return grammar

    @_timed
    def call(self, query: Union[str, Sequence[dict]], tools: Union[ToolRegistry, Iterable[Any], None] = None, *,
             mode: str = "auto", parallel: Union[bool, int] = True, top_k: Optional[int] = None,
             max_tokens: int = 512,
             end_bias: float = 8.0, guard: Optional[Guard] = None, ground: bool = True,
             now: Optional[datetime.datetime] = None, **options: Any) -> CallResult:
        """Asks the model to call tools for `query` (a user message, or a whole message list).

        A message list is a conversation in OpenAI's form: earlier calls as an assistant
        message's `tool_calls` (append `CallResult.message`), their results as `tool`
        messages. In `auto` mode a call already answered is not made again unless asked
        for again, and the calls must state something said since the last assistant turn.

        `mode`: "auto" (calls, or a text answer when no tool fits), "required" (at least
        one call), "none" (text only) or a tool name (only that tool). `parallel`: whether
        (or how many) calls may be made at once. `end_bias` (hermes format only) pushes
        the model to stop after a complete call. Other options go to generation (greedy
        by default).

        `top_k`: only the k tools that best match the query (edgeagent.ToolRAG) go in the
        prompt, the rest are listed in `left_out_tools`. By default every tool goes in,
        unless together they leave the reply no room in the context (a library of 100
        tools): then the best matches that fit, at most AUTO_TOP_K. Either way the turn
        evaluates its own tool list, where a fixed one stays in the prefix cache.

        `ground`: leave out optional arguments the query does not mention and list
        entries it does not mention (see grounding.grounded_arguments), and write values
        the way a parameter's description asks for them where the user wrote them
        otherwise (formats.conformed: dates in the described format, a percentage as a
        fraction, "50mH" in henries, "Denver" as "Denver, CO", "Euros" as EUR, "50
        million" as the user wrote it), and dates and times the user counted from now as
        the clock makes them (see `now`); False keeps the model's arguments as written.

        `guard` (an edgeagent.Guard): tools it denies whatever the arguments are switched
        off in the grammar, argument predicates it can express in JSON Schema narrow the
        argument grammar, and each returned call is checked (`guard.check`, the trace is
        not advanced): refused calls go to `denied` instead of `calls`.

        `now` (a datetime): the moment "today", "tomorrow" and "in 2 hours" count from
        (default: the local clock); the model cannot know the date, so a date or time it
        wrote for these is written as the clock makes it."""
        if now is not None and not isinstance(now, datetime.datetime):
            raise InvalidParameterError(f"now must be a datetime.datetime, got {now!r}")
        _check_positive_int("max_tokens", max_tokens)
        if top_k is not None:
            _check_positive_int("top_k", top_k)
        if isinstance(end_bias, bool) or not isinstance(end_bias, (int, float)) or not math.isfinite(end_bias):
            raise InvalidParameterError(f"end_bias must be a finite number, got {end_bias!r}")
        if guard is not None and not isinstance(guard, Guard):
            raise InvalidParameterError(f"guard must be an edgeagent.Guard, got {type(guard).__name__}")
        if not isinstance(ground, bool):
            raise InvalidParameterError(f"ground must be True or False, got {ground!r}")
        with at(now):
            return self._call(query, tools, mode=mode, parallel=parallel, top_k=top_k, max_tokens=max_tokens,
                              end_bias=end_bias, guard=guard, ground=ground, **options)

    def _call(self, query: Union[str, Sequence[dict]], tools: Union[ToolRegistry, Iterable[Any], None], *,
              mode: str, top_k: Optional[int], max_tokens: int, **kwargs: Any) -> CallResult:
        """`call`, its clock set: the input checked, the tools that go in the prompt chosen."""
        registry = _registry(tools) if tools is not None else self.tools
        if len(registry) == 0 and mode != "none":
            raise InvalidParameterError("no tools given: pass tools= or create the Agent with tools")
        if mode not in TOOL_MODES and mode not in registry:
            raise InvalidParameterError(f"mode must be one of {', '.join(TOOL_MODES)} or a tool name, got {mode!r}")
        if not isinstance(query, str):
            messages = checked_messages(query)
        elif query.strip():
            messages = [{"role": "user", "content": query}]
        else:
            raise InvalidParameterError("the query is empty")
        if self.call_format == "json":
            messages = _with_call_guide(messages)
        shown, left_out = self._shown_tools(messages, registry, mode, top_k, max_tokens)
        result = self._turn(messages, shown, mode=mode, max_tokens=max_tokens, **kwargs)
        return replace(result, left_out_tools=left_out) if left_out else result

    def _turn(self, messages: list[dict], registry: ToolRegistry, *, mode: str, parallel: Union[bool, int],
              max_tokens: int, end_bias: float, guard: Optional[Guard], ground: bool, **options: Any) -> CallResult:
        """One turn of `call` over the tools in the prompt (`registry`)."""
        max_calls = _max_calls(parallel)
        options = {"stop_repeats": STOP_REPEATS, **options}
        schemas = registry.schemas()
        scored = self._tool_scores(messages, registry) if mode in ("auto", "required") else None
        relevance, scores, part_scores = scored if scored is not None else (None, None, None)
        auto = mode == "auto"
        since_answer = _since_last_answer(messages)  # None: no earlier assistant turn
        gate = None
        if auto:
            # The relevance gate: the model alone almost always calls *something* (asked
            # for a triangle's area it calls a BMI tool); sentence embeddings tell topics
            # apart far better.
            # A conversation without a letter in any script ("?", "¹²³", a zero-width space)
            # asks for nothing a tool could be called with: the model, called anyway,
            # invents every value (get_weather(city="London")), and outside English the
            # checks of invented values stand aside (see _states_nothing).
            said = _said(messages)
            fits = _has_letters(said) and (
                relevance is None or max(relevance.values()) >= self.relevance_threshold or
                _names_a_tool(said, relevance, registry))
            mode = "required" if fits else "none"
            # Past it, the model's own first token decides (see _call_starts): read off
            # the call's first batch, a text answer follows when it does not start a call.
            # Not in a conversation: there the model answers as it answered before (after a
            # text answer, "And in Rome?" gets one with a made-up forecast).
            gate = self._call_starts() if fits and since_answer is None else None
        # Tool choice: tools far below the best match cannot be called (switched off in the
        # grammar; the prompt keeps them all, and with them the prefix cache).
        disabled: list[str] = []
        if scores is not None and mode != "none":
            best = max(scores.values())
            disabled = [name for name, v in part_scores.items() if v < best - RETRIEVAL_MARGIN]
        grammar_schemas = schemas
        if guard is not None:
            disabled = sorted(set(disabled) | set(disabled_tools(guard, registry.names())))
            if mode not in TOOL_MODES and mode in disabled or len(disabled) == len(registry):
                mode = "none"  # every call it could make would be refused: answer in text
            grammar_schemas = [narrowed_tool_schema(guard, s) for s in schemas]
        if mode == "none":
            return self._text_answer(messages, schemas, max_tokens, options, disabled)
        choice = "required" if mode == "auto" else mode
        # A fresh request is served by the best match first: among sibling tools (war vs
        # battle details, one store's products vs another's) the embedding picks the right
        # one far more often than the 0.5B model (its first choice is a needed tool on
        # 98/100 BFCL dev "multiple" items and 100/100 "parallel_multiple").
        top = None
        if scores is not None and choice == "required" and messages[-1].get("role") == "user":
            top = max((n for n in scores if n not in disabled), key=scores.__getitem__)
        query = _last_user_text(messages)
        facts = QueryFacts(query) if query is not None else None
        watch = _RepeatWatch(self.call_format) if max_calls > 1 else None
        if self.call_format == "hermes":
            grammar = self._grammar(grammar_schemas, choice, max_calls, "hermes")
            out = self.engine.chat(messages, tools=schemas, grammar=grammar, max_tokens=max_tokens,
                                   end_bias=end_bias, disabled_tools=disabled, gate_tokens=gate, on_text=watch,
                                   **options)
            if out.finish_reason == "gated":
                return self._text_answer(messages, schemas, max_tokens, options, disabled)
            result = self._parse_hermes(out, registry)
            result = watch.ended(result) if watch is not None else result
        else:
            grammar = self._grammar(grammar_schemas, choice, max_calls, "json" if max_calls > 1 else "json_object")
            out = self.engine.chat(messages, tools=schemas, grammar=grammar, prefix=_FENCE, max_tokens=max_tokens,
                                   disabled_tools=disabled, gate_tokens=gate, on_text=watch, **options)
            if out.finish_reason == "gated":
                return self._text_answer(messages, schemas, max_tokens, options, disabled)
            result = self._parse_json(out, registry)
            result = watch.ended(result) if watch is not None else result
            if top is not None and result.calls and top not in {c.name for c in result.calls}:
                # The model went to other tools: it writes one call more, to the best match
                # (after its own, so that it serves what they left), which goes first; the
                # model's own calls follow where they add something (below).
                one = self._grammar(grammar_schemas, choice, 1, "json_object")
                best = self._one_call_more(messages, schemas, one, result.calls,
                                           [n for n in registry.names() if n != top], max_tokens, options, registry)
                if best is not None:
                    result = replace(result, calls=[best] + (result.calls if max_calls > 1 else []))
            if max_calls > 1 and result.calls and facts is not None:
                calls = _pruned(facts, result.calls)
                if not result.truncated:
                    calls = self._more_calls(messages, schemas, grammar_schemas, choice, calls, max_calls,
                                             disabled, max_tokens, options, registry, facts)
                calls = _needed(facts, calls)
                calls += self._crossed(facts, calls, registry)[:max(0, max_calls - len(calls))]
                result = CallResult(calls=calls, text="", generation=out, truncated=result.truncated)
        as_said = written = result.calls
        if ground and result.calls:
            as_said = _grounded(_dated(result.calls, registry, messages), registry, messages)
            written = _conformed(as_said, registry, messages)
        if auto and written:
            # Every argument value invented, or a number or text the tool needs that nobody
            # gave: the tool does not fit what was asked (asked which blood cells clot, the
            # 0.5B model calls a cell-type tool with nucleus_count=10; asked how far a car
            # launched at velocity 'v' goes, it calls a range tool with v=10, angle=45). Of
            # several calls, those that invent a value are left out.
            # In a conversation, a call the conversation already made and has the result of
            # is not made again (given the result, the model repeats the call it sees), and
            # the calls state something said since the last answer (asked "Who wrote
            # Hamlet?" after the weather in Paris, the model calls get_weather(city="Paris")).
            done = _answered_calls(messages, top)
            kept = [i for i in range(len(written)) if not _invents(messages, as_said[i], written[i], registry)
                    and _call_key(written[i].name, written[i].arguments) not in done
                    and _call_key(as_said[i].name, as_said[i].arguments) not in done]
            as_said, written = [as_said[i] for i in kept], [written[i] for i in kept]
            if not kept or _states_nothing(messages, as_said, written) or (since_answer is not None and not (
                    _states_anything(since_answer, as_said) or _states_anything(since_answer, written))):
                return self._text_answer(messages, schemas, max_tokens, options, disabled)
        result = replace(result, calls=_completed(written) if ground else written)
        if guard is None:
            return result
        kept, denied = [], []
        for c in result.calls:
            v = guard.check(GuardEvent.call(c.name, c.arguments))
            (denied.append(DeniedCall(c.name, c.arguments, v)) if v.action in ("deny", "stop") else kept.append(c))
        return CallResult(calls=kept, text=result.text, generation=result.generation, truncated=result.truncated,
                          denied=denied, disabled_tools=disabled)

    def _shown_tools(self, messages: list[dict], registry: ToolRegistry, mode: str, top_k: Optional[int],
                     max_tokens: int) -> tuple[ToolRegistry, list[str]]:
        """The tools that go in the prompt (see `top_k` in `call`), and the names of those
        left out; a tool named as `mode` is always shown."""
        room = self.engine.n_ctx - min(max_tokens, REPLY_ROOM)
        if top_k is None and (len(registry) == 0 or self._fits(messages, registry.schemas(), room)):
            return registry, []
        ranked = self._ranked(messages, registry)
        if mode in registry:
            ranked = [mode] + [n for n in ranked if n != mode]
        k = min(top_k or AUTO_TOP_K, len(ranked))
        while k > 0 and not self._fits(messages, [registry.get(n).schema for n in ranked[:k]], room):
            k -= 1
        if k == 0:
            alone = self._prompt_tokens(messages, [])
            if alone > room:
                what = f"the conversation alone takes {alone} tokens"
            else:
                first = self._prompt_tokens(messages, [registry.get(ranked[0]).schema]) - alone
                what = f"the tool {ranked[0]!r} alone takes {first} tokens"
            raise ContextOverflowError(f"{what}; the context holds {self.engine.n_ctx} tokens, "
                                       f"{self.engine.n_ctx - room} of them kept for the reply")
        if k == len(registry):
            return registry, []  # all of them, as given: the prefix cache holds
        # Best first: with a 244-tool library (8 shown), BFCL dev "multiple" 33/40 so, 30/40
        # in the library's order.
        chosen = set(ranked[:k])
        return ToolRegistry(registry.get(n) for n in ranked[:k]), [n for n in registry.names() if n not in chosen]

    def _prompt_tokens(self, messages: list[dict], schemas: list[dict]) -> int:
        """How many tokens the conversation takes in the prompt with these tools."""
        return self._prompt_size(self.engine.render_chat(messages, tools=schemas or None))

    def _prompt_size(self, text: str) -> int:
        return len(self.engine.tokenize(text, add_special=False, parse_special=True))

    def _fits(self, messages: list[dict], schemas: list[dict], room: int) -> bool:
        """Whether the conversation with these tools takes at most `room` tokens. A token
        is at least one byte, so a prompt of no more bytes fits without being tokenized
        (the usual one: engine.chat tokenizes it again)."""
        text = self.engine.render_chat(messages, tools=schemas or None)
        return len(text.encode("utf-8")) <= room or self._prompt_size(text) <= room

    def _ranked(self, messages: list[dict], registry: ToolRegistry) -> list[str]:
        """Tool names, the best match to the request first (edgeagent.ToolRAG: embeddings
        and BM25, each clause of the request on its own); the given order when the
        conversation says nothing to match."""
        query = _last_user_text(messages) or _said(messages)
        if not query.strip():
            return registry.names()
        rag = self._rag(registry)
        ranked = [r.tool.name for r in rag.search(query, k=len(rag))]
        # Tools offered only when a word of theirs is said (Tool.only_if_said) come last.
        found = set(ranked)
        return ranked + [n for n in registry.names() if n not in found]

    def _rag(self, registry: ToolRegistry) -> "ToolRAG":
        """The retrieval index of a library (kept for the last few libraries)."""
        from .toolrag import ToolRAG

        key = json.dumps(registry.schemas(), sort_keys=True)
        rag = self._rags.get(key)
        if rag is None:
            rag = self._rags[key] = ToolRAG(registry)
            if len(self._rags) > 4:
                self._rags.popitem(last=False)
            if rag.backend in ("hybrid", "embedding"):  # the same texts, by the same embedder
                self._tool_vectors.update(zip(rag.texts, rag.vectors))
        else:
            self._rags.move_to_end(key)
        return rag

    def warm(self, tools: Union[ToolRegistry, Iterable[Any], None] = None,
             context: Sequence[dict] = ()) -> None:
        """Evaluates the system-and-tools prefix (and `context`, earlier messages of the
        conversation) into the KV prefix cache, so that the next `call` with these tools
        only evaluates the new query; also embeds the tools' descriptions, compiles the
        grammars of a default call (`mode="auto"`, `parallel=True`) and builds the unit
        table grounding reads (pint's, ~0.4 s: else the first call pays for it). An app
        calls it once when its tool set is known. A library too big for the prompt (see
        `top_k` in `call`) has no fixed prefix: it is indexed for retrieval instead."""
        registry = _registry(tools) if tools is not None else self.tools
        if not isinstance(context, (list, tuple)):
            raise InvalidParameterError(f"context must be a list of messages, got {type(context).__name__}")
        messages = checked_messages([*context, {"role": "user", "content": "?"}])
        if self.call_format == "json":
            messages = _with_call_guide(messages)
        schemas = registry.schemas()
        too_big = bool(schemas) and not self._fits(messages, schemas, self.engine.n_ctx - REPLY_ROOM)
        if too_big:
            self._rag(registry)
        else:
            self.engine.chat(messages, tools=schemas or None, max_tokens=1)
        if not schemas:
            return
        unit_registry()
        if self._embeds():
            self._tool_texts(registry)
        self._call_starts()
        if self.call_format == "json" and not too_big:
            for calls, format in ((_max_calls(True), "json"), (1, "json_object")):
                self.engine.matcher(self._grammar(schemas, "required", calls, format))

    def _tool_scores(self, messages: list[dict], registry: ToolRegistry
                     ) -> Optional[tuple[dict[str, float], dict[str, float], dict[str, float]]]:
        """Cosine similarities of each tool's description (all-MiniLM-L6-v2), by tool name:
        relevance (to the last user message or all the user said, whichever is closer:
        "I'd like it in celsius" after "What's the weather in Oslo?" asks for the
        weather), to the last user message, and to it or any of its sentences, whichever
        is closer; None without the embedding model, a text query, or with
        relevance_threshold=None. Relevance is judged on whole messages (a short sentence
        matches some tool by chance), tool choice on the last message (an assistant that
        asks for one part of a request at a time means that part) and its sentences."""
        from . import toolrag

        query = _last_user_text(messages)
        if query is None or not self._embeds():
            return None
        said = _said(messages)
        if not is_english(said):
            # all-MiniLM-L6-v2 reads English only ("¿Qué tiempo hace en Madrid?" scores 0.06
            # against a weather tool, "上海的天气怎么样" 0.16): the model judges alone.
            return None
        texts = self._tool_texts(registry)
        embedder = toolrag.shared_embedder()
        # Sentences, not request.clauses: a request often comes whole in quotes, which
        # clauses() keeps as one unit (BFCL dev parallel_multiple: 13/100 items lost a
        # needed tool with clauses, 1/100 with sentences).
        parts = [p for p in _SENTENCE_END.split(query.strip()) if len(p.split()) >= 3]
        parts = parts if len(parts) > 1 else []
        q = embedder.embed([query] + parts + ([said] if said != query else []))
        all_said = len(q) - 1 if said != query else 0  # the row of all the user said
        closest = {name: np.max([self._tool_vectors[x] @ q.T for x in own], axis=0) for name, own in texts.items()}
        return ({name: float(max(v[0], v[all_said])) for name, v in closest.items()},
                {name: float(v[0]) for name, v in closest.items()},
                {name: float(v[:1 + len(parts)].max()) for name, v in closest.items()})

    def _embeds(self) -> bool:
        """Whether auto mode's relevance gate and tool choice use embeddings (a threshold
        is set and the embedding model is installed)."""
        from . import toolrag

        return self.relevance_threshold is not None and toolrag.embedding_model_available()

    def _tool_texts(self, registry: ToolRegistry) -> dict[str, tuple[str, ...]]:
        """The texts each tool is embedded as, by tool name, each embedded once (kept in
        _tool_vectors). Three texts per tool, the best match counts: the full text (with
        parameter descriptions) suits long queries, name and description alone suit short
        ones ("Weather in Oslo?" against a weather tool: 0.32 full, 0.43 short), and name
        and first sentence suit a description whose later sentences tell formats ("If
        using state, then use short form like CA": "What's the weather like in Mumbai?"
        0.32 against name and description, 0.39 against name and first sentence)."""
        from . import toolrag

        texts = {t.name: (toolrag.tool_text(t), toolrag.tool_summary(t), toolrag.tool_gist(t)) for t in registry}
        missing = list({x for own in texts.values() for x in own if x not in self._tool_vectors})
        if missing:
            if len(self._tool_vectors) > 4096:
                self._tool_vectors.clear()
            self._tool_vectors.update(zip(missing, toolrag.shared_embedder().embed(missing)))
        return texts

    def _call_starts(self) -> list[int]:
        """Auto mode: the tokens that show the model means to call a tool.

        Small models often mean to call a tool but start writing it in another shape
        (a ```json fence, a bare JSON object) than their template's, so the intent is
        read from the model's own first token, unconstrained: a call in any shape goes
        on, anything else means a text answer."""
        return self.engine.tokens_starting(CALL_STARTS)

    def _text_answer(self, messages: list[dict], schemas: list[dict], max_tokens: int, options: dict,
                     disabled: list[str]) -> CallResult:
        """The model's answer in text: its first token one that starts no call (see
        _call_starts), and its end where it starts writing calls all the same. Left free
        where it was declined, the 0.5B model mostly writes a fenced list of made-up calls
        (up to max_tokens on 11 of 120 BFCL dev irrelevance items, ~14 s each); made to
        start with words and told TEXT_GUIDE, it answers ("Here's a joke about penguins:
        ...")."""
        tools = schemas or None
        messages = [*messages, {"role": "system", "content": TEXT_GUIDE}]
        bias = {**(options.get("logit_bias") or {}), **{t: -100.0 for t in self._call_starts()}}
        out = self.engine.chat(messages, tools=tools, max_tokens=1, **{**options, "logit_bias": bias})
        text = out.text
        if out.finish_reason == "length" and max_tokens > 1:
            stop = options.get("stop") or []
            stop = [stop] if isinstance(stop, str) else list(stop)
            out = self.engine.chat(messages, tools=tools, prefix=text, max_tokens=max_tokens - 1,
                                   **{**options, "stop": stop + list(TEXT_ENDS)})
            text += out.text
        return CallResult(calls=[], text=text.strip(), generation=out, disabled_tools=disabled)

    def _more_calls(self, messages: list[dict], schemas: list[dict], grammar_schemas: list[dict], choice: str,
                    calls: list[ToolCall], max_calls: int, disabled: list[str], max_tokens: int,
                    options: dict, registry: ToolRegistry, facts: QueryFacts) -> list[ToolCall]:
        """`calls` and the calls more the model makes after it closed its list, asked for
        one at a time while the query leaves something unused and each new call brings
        something from the query that no earlier call did (see grounding.py): the 0.5B
        model closes a list of several calls too early far more often than it leaves out
        a call it was going to make. A call more that completes an earlier one (the same
        call with more arguments) takes its place."""
        one, calls = self._grammar(grammar_schemas, choice, 1, "json_object"), list(calls)
        # Only while the query states something the calls so far leave unused: a call more
        # costs as much as the first, and on ~40% of BFCL's one-call queries nothing is left.
        off, retried = list(disabled), False
        for _ in range(max_calls + 1):  # bounded: a completion replaces a call instead of adding one
            earlier = [(c.name, c.arguments) for c in calls]
            callable_tools = {t.name: t for t in registry if t.name not in off}
            if len(calls) >= max_calls or not leaves_unused(facts, earlier, callable_tools):
                break
            call = self._one_call_more(messages, schemas, one, calls, off, max_tokens, options, registry)
            if call is None:
                break
            if _added(facts, calls, call):
                off = list(disabled)
                continue
            # A call that brings nothing new: once, the model is asked again with that tool
            # switched off (asked for the time in Beijing and Tokyo and the difference, it
            # writes the difference again where Tokyo's time is left).
            if retried or len(callable_tools) < 2:
                break
            retried, off = True, off + [call.name]
        return calls

    def _crossed(self, facts: QueryFacts, calls: list[ToolCall], registry: ToolRegistry) -> list[ToolCall]:
        """The calls that complete the grid of `calls` (grounding.crossed), each checked
        against its tool's schema (the values come from calls of the same tool, the
        combination is new)."""
        out = []
        for name, args in crossed(facts, [(c.name, c.arguments) for c in calls]):
            try:
                out.append(self._checked({"name": name, "arguments": args}, registry))
            except ToolArgumentError:
                continue
        return out

    def _one_call_more(self, messages: list[dict], schemas: list[dict], grammar: Grammar, calls: list[ToolCall],
                       disabled: list[str], max_tokens: int, options: dict,
                       registry: ToolRegistry) -> Optional[ToolCall]:
        """The model's next call after `calls` (the reply continued as `[call, ..., ` under
        `grammar`, one call object), or None when max_tokens cut it off."""
        made = ", ".join(json.dumps(c.to_dict(), ensure_ascii=False) for c in calls)
        out = self.engine.chat(messages, tools=schemas, grammar=grammar, prefix=f"{_FENCE}[{made}, ",
                               max_tokens=max_tokens, disabled_tools=disabled, **options)
        items, truncated = _complete_calls(out.text)
        return None if truncated else self._checked(items[0], registry)

    def _parse_json(self, out: Generation, registry: ToolRegistry) -> CallResult:
        items, truncated = _complete_calls(out.text)
        return CallResult(calls=[self._checked(item, registry) for item in items], text="", generation=out,
                          truncated=truncated)

    def _parse_hermes(self, out: Generation, registry: ToolRegistry) -> CallResult:
        calls = [self._checked(item, registry) for item in _hermes_calls(out.text)]
        text = out.text.split("<tool_call>", 1)[0].strip()
        # A call cut off by max_tokens is left out; `truncated` says so.
        truncated = out.text.count("<tool_call>") > len(calls)
        return CallResult(calls=calls, text=text, generation=out, truncated=truncated)

    @staticmethod
    def _checked(data: dict, registry: ToolRegistry) -> ToolCall:
        tool = registry.get(data["name"])  # the grammar guarantees the shape
        tool.validate_arguments(data["arguments"])  # and the schema; checked all the same
        return ToolCall(data["name"], data["arguments"])


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")


def _max_calls(parallel: Union[bool, int]) -> int:
    if isinstance(parallel, bool):
        return 8 if parallel else 1
    if isinstance(parallel, int) and parallel >= 1:
        return parallel
    raise InvalidParameterError(f"parallel must be a bool or an int >= 1, got {parallel!r}")


def _last_user_text(messages: list[dict]) -> Optional[str]:
    query = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), None)
    return query if isinstance(query, str) else None


def _since_last_answer(messages: list[dict]) -> Optional[list[dict]]:
    """The messages after the last assistant turn (what this turn answers); None without one."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    return None if last is None else messages[last + 1:]


def _call_key(name: str, arguments: dict) -> str:
    return json.dumps([name, arguments], sort_keys=True, default=str)


def _answered_calls(messages: list[dict], asked: Optional[str]) -> set[str]:
    """The calls (as _call_key) an assistant turn made that a tool message answered, but
    those the user asks for again after the last result: of the tool `asked` (the best
    match of the request), values stated again ("check Paris again")."""
    last_result = max((i for i, m in enumerate(messages) if m.get("role") == "tool"), default=None)
    if last_result is None:
        return set()
    later = [m for m in messages[last_result + 1:] if m.get("role") == "user"]
    done: set[str] = set()
    for m in messages[:last_result]:
        if m.get("role") != "assistant":
            continue
        for c in m.get("tool_calls") or ():
            call = ToolCall(c["function"]["name"], c["function"]["arguments"])
            if not (later and call.name == asked and leaf_values(call.arguments) and
                    _states_anything(later, [call])):
                done.add(_call_key(call.name, call.arguments))
    return done


def _said(messages: list[dict]) -> str:
    """All the user said in a conversation, one message per line."""
    return "\n".join(m["content"] for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str))


def _has_letters(text: str) -> bool:
    """Whether a text has a letter of any script (words in any language, not only digits,
    signs and spaces)."""
    return any(ch.isalpha() for ch in text)


def _names_a_tool(query: str, scores: dict[str, float], registry: ToolRegistry) -> bool:
    """Whether the query names the subject of a tool (a telling word of its name, in its
    singular or plural) or one of its options (a telling enum value of a parameter: "Give
    it to me in fahrenheit" against a weather tool's unit) and matches it at least
    NAMED_RELEVANCE_THRESHOLD."""
    said = padded_words(query)
    words = set(said.split())
    return any(scores[t.name] >= NAMED_RELEVANCE_THRESHOLD and (
        any(word_in(w, words) for w in name_words(t.name)) or
        any(says(said, p) for p in option_phrases(t.parameters))) for t in registry)


def _grounded(calls: list[ToolCall], registry: ToolRegistry, messages: list[dict]) -> list[ToolCall]:
    """The calls without the optional arguments and list entries the conversation does not
    mention, and with their boolean flags as the user asked."""
    facts, said = conversation_facts(messages), _said(messages)
    parameters = [registry.get(c.name).parameters for c in calls]
    grounded = [grounded_arguments(c.arguments, p, facts) for c, p in zip(calls, parameters)]
    parts: dict[int, str] = {}  # per call of a tool called more than once: what the query says of it alone
    for name in {c.name for c in calls}:
        mine = [i for i, c in enumerate(calls) if c.name == name]
        if len(mine) > 1:
            parts.update(zip(mine, call_parts(said, [grounded[i] for i in mine])))
    return [_valid_or(c, flags_as_asked(grounded[i], parameters[i], said, alone=i not in parts,
                                        part=parts.get(i, "")), registry)
            for i, c in enumerate(calls)]


def _dated(calls: list[ToolCall], registry: ToolRegistry, messages: list[dict]) -> list[ToolCall]:
    """The calls with the dates and times the user told ("tomorrow at 9am", "in 2 hours")
    in place of the model's own (formats.dates_as_told): it cannot know today's date."""
    said = _said(messages)
    return [_valid_or(c, dates_as_told(c.arguments, registry.get(c.name).parameters, said), registry) for c in calls]


def _conformed(calls: list[ToolCall], registry: ToolRegistry, messages: list[dict]) -> list[ToolCall]:
    """The calls with their values written as the parameters' descriptions ask (formats.conformed)."""
    said = _said(messages)
    return [_valid_or(c, conformed(c.arguments, registry.get(c.name).parameters, said), registry) for c in calls]


def _valid_or(call: ToolCall, arguments: dict, registry: ToolRegistry) -> ToolCall:
    """The call with `arguments` if they are valid, else as it was (e.g. a list cut below its minItems)."""
    try:
        registry.get(call.name).validate_arguments(arguments)
    except ToolArgumentError:
        return call
    return ToolCall(call.name, arguments)


def _within(a: ToolCall, b: ToolCall) -> bool:
    """Whether `b` repeats or completes `a`: the same tool, and each of a's arguments with the same value."""
    return a.name == b.name and all(k in b.arguments and b.arguments[k] == v for k, v in a.arguments.items())


def _completed(calls: list[ToolCall]) -> list[ToolCall]:
    """The calls without those another call repeats or completes: grounding may leave two
    calls so (a first call's invented detail left out, the next one's stated detail kept)."""
    return [c for i, c in enumerate(calls)
            if not any(_within(c, d) and (not _within(d, c) or j < i) for j, d in enumerate(calls) if j != i)]


def _pruned(facts: QueryFacts, calls: list[ToolCall]) -> list[ToolCall]:
    """The model's own list without the calls that bring nothing the query states beyond
    the calls before them (the same test as for one call more): a list that goes on
    after the request is served repeats a call with invented values ("a timer for 45
    minutes" → timers for pasta, pizza, salad...)."""
    kept = calls[:1]
    for call in calls[1:]:
        _added(facts, kept, call)
    return kept


def _needed(facts: QueryFacts, calls: list[ToolCall]) -> list[ToolCall]:
    """The calls without those that bring nothing the others do not, where what they bring
    beside their own tool's other calls, calls of other tools serve (from the last one
    back; the test of grounding.adds_to_earlier). The model writes such a call on the way
    to a later one: asked for Boston's temperature and humidity and Rome's precipitation,
    it also writes Rome's temperature; asked for a building's size and a team's last
    match, a building called "Manchester United". Calls of one tool alone stay (a payout
    of 6M with 2M shares beside 5M with 2M and 6M with 2.5M), as do those that take the
    pair of a value their tool took ("temperature and precipitation for Boston and Rome")."""
    kept = list(calls)
    for i in range(len(kept) - 1, -1, -1):
        call = kept[i]
        same = [(c.name, c.arguments) for j, c in enumerate(kept) if j != i and c.name == call.name]
        other = [(c.name, c.arguments) for c in kept if c.name != call.name]
        if same and other and adds_to_earlier(call.name, call.arguments, same, facts) \
                and not adds_to_earlier(call.name, call.arguments, same + other, facts):
            del kept[i]
    return kept


def _added(facts: QueryFacts, calls: list[ToolCall], call: ToolCall) -> bool:
    """Puts `call` in `calls` if it brings something from the query that they do not: in
    the place of an earlier call it completes (the same tool and arguments, and more:
    asked for a sculpture's size, the model's first call leaves out detail="size", its
    next one adds it), else at the end. Returns whether it was put in."""
    earlier = [(c.name, c.arguments) for c in calls]
    for i, c in enumerate(calls):
        extra = {k: v for k, v in call.arguments.items() if k not in c.arguments}
        if extra and _within(c, call):
            if not adds_to_earlier(call.name, extra, earlier, facts):
                return False
            calls[i] = call
            return True
    if not adds_to_earlier(call.name, call.arguments, earlier, facts):
        return False
    calls.append(call)
    return True


def _states_nothing(messages: list[dict], as_said: list[ToolCall], written: list[ToolCall]) -> bool:
    """Whether the calls state nothing of the conversation, judged on the values as the
    model took them from the user (`as_said`: 50 for "50mH") and as the tools take them
    (`written`: 0.05 henries): either form shows the user gave them (a slipped zero,
    500000000 for "50 million", is right only as written)."""
    if not is_english(_said(messages)):
        return False  # the values may be translations ("Seoul" for "서울"), which words cannot check
    return not _states_anything(messages, as_said) and (written == as_said or not _states_anything(messages, written))


def _invents(messages: list[dict], said: ToolCall, written: ToolCall, registry: ToolRegistry) -> bool:
    """Whether a call invents a value its tool needs, in both forms (see _states_nothing)."""
    return _invents_a_value(messages, [said], registry) and (
        written == said or _invents_a_value(messages, [written], registry))


def _states_anything(messages: list[dict], calls: list[ToolCall]) -> bool:
    """Whether the calls carry no values, or at least one the conversation states (any
    message: a value may come from an earlier turn or a tool's result)."""
    values = [v for c in calls for v in leaf_values(c.arguments)]
    if not values:
        return True
    # every message but the call guide the agent added ("one call for each item": no one)
    text = "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str)).replace(CALL_GUIDE, "")
    facts = QueryFacts(text)
    return any(facts.states(v) or facts.says_number(v) for v in values)


def _invents_a_value(messages: list[dict], calls: list[ToolCall], registry: ToolRegistry) -> bool:
    """Whether a call gives a required argument a number the conversation (user and tool
    messages) does not write (grounding.invented_number) or gives as another quantity
    (grounding.misplaced_number: weight=10 for "the base is 10 meters"), a free text (no
    enum) it does not say (grounding.invented_text: asked who the best jazz singer is, the
    0.5B model searches instrument players with instrument="violin"), or two required
    arguments one text or object the user wrote once (grounding.doubled_value); or whether
    its tool measures a quantity other than the one asked for (grounding.measures_another:
    a park's area for a sphere's volume)."""
    facts = conversation_facts(messages, times=True)  # "6:30 PM" writes 6
    for c in calls:
        tool = registry.get(c.name)
        parameters = tool.parameters
        required = [k for k in parameters.get("required") or [] if k in c.arguments]
        if doubled_value({k: c.arguments[k] for k in required}, facts) or \
                measures_another(tool.name, parameters, tool.description, facts):
            return True
        for k in required:
            if is_default(parameters, k, c.arguments[k]):
                continue  # the schema's own default ("all platforms") is no invention
            schema = (parameters.get("properties") or {}).get(k) or {}
            free_text = not schema_has(schema, lambda s: "enum" in s)
            description = str(schema.get("description", ""))
            if misplaced_number(k, c.arguments[k], facts) or any(
                    invented_number(v, facts) or (free_text and invented_text(v, facts, description))
                    for v in leaf_values(c.arguments[k])):
                return True
    return False


class _RepeatWatch:
    """Watches a list of calls as it is decoded (Engine.chat on_text) and ends it at the
    first call that repeats an earlier one exactly: having written the call a request
    needs, the 0.5B model often writes it again and again to the end of the list (asked
    for the average of seven integers, `calculate_average` of the same list: 4.4 s, and
    1.3 s ended at the first repeat). A repeat would be dropped after the decode all the
    same (_pruned, _completed); `repeat_at` is its place in the list."""

    def __init__(self, call_format: str) -> None:
        hermes = call_format == "hermes"
        self.calls_in = _hermes_calls if hermes else (lambda text: _complete_calls(text)[0])
        self.closer = ">" if hermes else "}"  # the last character of a call
        self.text = ""
        self.done = 0  # calls complete so far
        self.repeat_at: Optional[int] = None

    def __call__(self, piece: str) -> bool:
        self.text += piece
        if self.closer not in piece:
            return True  # no call was closed: nothing to parse again
        items = self.calls_in(self.text)
        for i in range(self.done, len(items)):
            if items[i] in items[:i]:
                self.repeat_at = i
                return False
        self.done = len(items)
        return True

    def ended(self, result: CallResult) -> CallResult:
        """`result` without the repeat the list was ended at, if it was: a list so ended
        is not cut off (calls more are still asked for, step 4)."""
        if self.repeat_at is None:
            return result
        return replace(result, calls=result.calls[:self.repeat_at], truncated=False)


def _hermes_calls(text: str) -> list[Any]:
    """The complete `<tool_call>` blocks of a reply in the hermes format, parsed."""
    return [json.loads(block) for block in _CALL_BLOCK.findall(text)]


def _complete_calls(text: str) -> tuple[list[dict], bool]:
    """The calls of a grammar-shaped reply (one object, or a list `[call, call, ...]`) and
    whether max_tokens cut it off; the complete calls before the cut are kept."""
    try:
        data = json.loads(text)
        return (data if isinstance(data, list) else [data]), False
    except json.JSONDecodeError:
        pass
    items, pos, decoder = [], 1, json.JSONDecoder()
    if text.startswith("["):
        while True:
            try:
                item, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            items.append(item)
            pos += len(", ")  # the grammar's separator
    return items, True


def _with_call_guide(messages: list[dict]) -> list[dict]:
    """The messages with `CALL_GUIDE` in the system turn (after the caller's own system text)."""
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        first = dict(messages[0], content=f"{messages[0]['content']}\n\n{CALL_GUIDE}")
        return [first, *messages[1:]]
    return [{"role": "system", "content": CALL_GUIDE}, *messages]
