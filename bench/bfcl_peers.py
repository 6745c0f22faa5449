"""The two peer baselines of `edgeagent eval bfcl --compare`, and the lenient call parser.

Both peers run the same GGUF with the same threads as our own method, so the
comparison isolates the *method*:

* `LlamaCppChatmlFunctionCalling`: llama-cpp-python's own function calling
  (``chat_format="chatml-function-calling"``, ``tool_choice="auto"``), used as a
  llama-cpp-python user would, on the item's messages as they are.
* `TemplateFreeGeneration`: the model's own chat template with the tools, free
  generation (no grammar), then `parse_tool_calls` reads the calls out of the text as
  leniently as llama.cpp's server does.

A method is any object with ``name`` and ``predict(item) -> [{"name", "arguments"}]``
(see `edgeagent.bench.bfcl_eval`). Heavy imports (llama_cpp) happen in constructors.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterator

from .bfcl import BfclItem

__all__ = [
    "parse_tool_calls",
    "LlamaCppChatmlFunctionCalling",
    "TemplateFreeGeneration",
    "DEFAULT_MAX_TOKENS",
]

# Enough for four parallel calls with long string arguments; the same for every item.
DEFAULT_MAX_TOKENS = 512

_DECODER = json.JSONDecoder()
_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FENCED_BLOCK = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


# ---------------------------------------------------------------------------
# Lenient parsing of tool calls out of free text
# ---------------------------------------------------------------------------


def parse_tool_calls(text: str) -> list[dict]:
    """The calls written in `text`, as ``[{"name": str, "arguments": dict}]``; never raises.

    Looked for in this order, the first source that yields a call wins:
      1. every ``<tool_call>...</tool_call>`` block (the last one may be unterminated);
      2. fenced code blocks (```` ```json ```` or bare ```` ``` ````);
      3. JSON objects or arrays anywhere in the text.
    A call is ``{"name", "arguments"}``, ``{"name", "parameters"}`` or OpenAI's
    ``{"function": {...}}``; ``{"tool_calls": [...]}`` and arrays of calls are unpacked;
    arguments may be a JSON string of an object. Anything else is ignored.
    """
    if not isinstance(text, str):
        return []
    for blocks in (_TOOL_CALL_BLOCK.findall(text), _FENCED_BLOCK.findall(text), [text]):
        calls = [call for block in blocks for value in _json_values(block) for call in _calls_in(value)]
        if calls:
            return calls
    return []


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON object or array in `text`, outermost first, left to right."""
    i = 0
    while True:
        starts = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            i = start + 1  # not JSON here: maybe an inner object is
            continue
        yield value
        i = end


def _calls_in(value: Any) -> list[dict]:
    if isinstance(value, list):
        return [call for element in value for call in _calls_in(element)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("tool_calls"), list):
        return _calls_in(value["tool_calls"])
    if isinstance(value.get("function"), dict):  # OpenAI: {"type": "function", "function": {...}}
        value = value["function"]
    name = value.get("name")
    arguments = value.get("arguments", value.get("parameters"))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return []
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        return []
    return [{"name": name, "arguments": arguments}]


# ---------------------------------------------------------------------------
# Peer (b): the model's own chat template, free generation, lenient parsing
# ---------------------------------------------------------------------------


def _warm_messages(item: BfclItem) -> list[dict]:
    """The item's conversation with a placeholder for its last user turn: evaluating it
    puts the system-and-tools prefix (what an app knows before the query) in the cache."""
    return item.messages[:-1] + [{"role": "user", "content": "?"}]


class TemplateFreeGeneration:
    """Our Engine with the model's own template and tools; no grammar; `parse_tool_calls`."""

    name = "template"

    def __init__(self, model: str | os.PathLike | None = None, *, n_threads: int = 2, n_ctx: int = 4096,
                 max_tokens: int = DEFAULT_MAX_TOKENS):
        from ..engine import Engine

        self.engine = Engine(model, n_ctx=n_ctx, n_threads=n_threads)
        self.max_tokens = max_tokens
        self.last_text = ""  # the raw output of the last item, for inspection

    def warm(self, item: BfclItem) -> None:
        self.engine.chat(_warm_messages(item), tools=item.tools, max_tokens=1)

    def predict(self, item: BfclItem) -> list[dict]:
        result = self.engine.chat(item.messages, tools=item.tools, temperature=0, max_tokens=self.max_tokens)
        self.last_text = result.text
        return parse_tool_calls(result.text)


# ---------------------------------------------------------------------------
# Peer (a): llama-cpp-python's chatml-function-calling
# ---------------------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def _safe_names(names: list[str]) -> dict[str, str]:
    """BFCL name -> a name matching OpenAI's ``^[a-zA-Z0-9_-]+$`` (dots become ``_``, as
    BFCL's own OpenAI handler does), unique within the item."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = _UNSAFE_NAME_CHARS.sub("_", name) or "f"
        safe, n = base, 1
        while safe in taken:
            n += 1
            safe = f"{base}_{n}"
        taken.add(safe)
        mapping[name] = safe
    return mapping


class LlamaCppChatmlFunctionCalling:
    """llama-cpp-python's ``chatml-function-calling`` chat handler on the same GGUF.

    Its handler picks ``functions.<name>:`` or ``message:`` under a small grammar, then
    writes each call's arguments under a grammar made from the tool's JSON Schema.
    Tool names are made OpenAI-safe (its grammar ends a name at ``:`` and OpenAI-style
    APIs expect ``[A-Za-z0-9_-]``) and mapped back before scoring.
    """

    name = "chatml"

    def __init__(self, model: str | os.PathLike | None = None, *, n_threads: int = 2, n_ctx: int = 4096,
                 max_tokens: int = DEFAULT_MAX_TOKENS):
        import llama_cpp

        from ..models import resolve

        self.llm = llama_cpp.Llama(model_path=str(resolve(model)), chat_format="chatml-function-calling",
                                   n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)
        self.max_tokens = max_tokens
        self.last_message: dict = {}  # the raw message of the last item, for inspection

    def _tools(self, item: BfclItem) -> tuple[list[dict], dict[str, str]]:
        to_safe = _safe_names([t["function"]["name"] for t in item.tools])
        tools = [{**t, "function": {**t["function"], "name": to_safe[t["function"]["name"]]}} for t in item.tools]
        return tools, {safe: name for name, safe in to_safe.items()}

    def warm(self, item: BfclItem) -> None:
        # llama-cpp-python keeps the evaluated tokens and reuses their longest common prefix
        tools, _ = self._tools(item)
        self.llm.create_chat_completion(messages=_warm_messages(item), tools=tools, tool_choice="auto",
                                        temperature=0, max_tokens=1)

    def predict(self, item: BfclItem) -> list[dict]:
        tools, from_safe = self._tools(item)
        response = self.llm.create_chat_completion(messages=item.messages, tools=tools, tool_choice="auto",
                                                   temperature=0, max_tokens=self.max_tokens)
        message = response["choices"][0]["message"]
        self.last_message = message
        calls = []
        for tool_call in message.get("tool_calls") or []:
            function = tool_call.get("function") or {}
            try:
                arguments = json.loads(function.get("arguments") or "")
            except (ValueError, RecursionError, TypeError):
                continue  # dropped: the scorer counts the missing call as a miss
            if isinstance(arguments, dict):
                name = function.get("name", "")
                calls.append({"name": from_safe.get(name, name), "arguments": arguments})
        return calls
