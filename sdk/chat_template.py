"""Rendering a model's own chat template (the Jinja text stored in its GGUF).

Templates come from model files, so they are untrusted: they run in jinja2's
immutable sandbox, with the few helpers Hugging Face templates expect
(`raise_exception`, `tojson`, `strftime_now`).
"""

from __future__ import annotations

import datetime as _dt
import json
from functools import lru_cache
from typing import Any, Sequence

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import ChatTemplateError

__all__ = ["render_chat"]


def _raise_exception(message: str) -> None:
    raise ChatTemplateError(f"the chat template refused these messages: {message}")


def _tojson(value: Any, indent: int | None = None, separators=None, sort_keys: bool = False,
            ensure_ascii: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


@lru_cache(maxsize=8)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: _dt.datetime.now().strftime(fmt)
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        raise ChatTemplateError(f"the model's chat template does not parse (line {e.lineno}): {e.message}") from None


def checked_messages(messages: Sequence[dict]) -> list[dict]:
    """A copy of `messages`, checked: ChatTemplateError names the first message that is not
    a dict of a known role with text content, or says there is none."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ChatTemplateError("messages must be a list of {'role': ..., 'content': ...} dicts")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ChatTemplateError(f"message {i} is a {type(m).__name__}, expected a dict with 'role' and 'content'")
        role = m.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            raise ChatTemplateError(f"message {i} has role {role!r}; expected system, user, assistant or tool")
        if "content" in m and m["content"] is not None and not isinstance(m["content"], str):
            raise ChatTemplateError(f"message {i} content must be a string")
        m = dict(m)
        if m.get("tool_calls") is not None:
            if role != "assistant":
                raise ChatTemplateError(f"message {i} has tool_calls but role {role!r}; only an assistant makes calls")
            if not isinstance(m["tool_calls"], (list, tuple)):
                raise ChatTemplateError(f"message {i} tool_calls must be a list of calls, "
                                        f"got {type(m['tool_calls']).__name__}")
            m["tool_calls"] = [_checked_tool_call(c, f"message {i} tool_calls[{j}]") for j, c in enumerate(m["tool_calls"])]
        out.append(m)
    if not out:
        raise ChatTemplateError("messages is empty")
    return out


def _checked_tool_call(call: Any, where: str) -> dict:
    """An earlier call in OpenAI's form ({"function": {"name", "arguments"}}, arguments a
    JSON string or an object) or flat ({"name", "arguments"}), as templates read it:
    arguments an object (a string would be rendered as one quoted string)."""
    if not isinstance(call, dict):
        raise ChatTemplateError(f"{where} is a {type(call).__name__}, expected a dict")
    function = call.get("function", call)
    if not isinstance(function, dict):
        raise ChatTemplateError(f"{where} function must be a dict with 'name' and 'arguments'")
    name, arguments = function.get("name"), function.get("arguments", {})
    if not isinstance(name, str) or not name:
        raise ChatTemplateError(f"{where} has no function name")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as e:
            raise ChatTemplateError(f"{where} ({name}) arguments are not valid JSON: {e.msg}") from None
    if not isinstance(arguments, dict):
        raise ChatTemplateError(f"{where} ({name}) arguments must be a JSON object")
    out = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if "id" in call:
        out["id"] = call["id"]
    return out


def render_chat(template: str, messages: Sequence[dict], *, tools: Sequence[dict] | None = None,
                add_generation_prompt: bool = True, bos_token: str = "", eos_token: str = "",
                **extra: Any) -> str:
    """Renders `messages` (and optional OpenAI-style `tools`) with the model's template."""
    if not template:
        raise ChatTemplateError("this model has no chat template; use generate() with a raw prompt")
    compiled = _compile(template)
    try:
        return compiled.render(
            messages=checked_messages(messages),
            tools=list(tools) if tools else None,
            add_generation_prompt=add_generation_prompt,
            bos_token=bos_token,
            eos_token=eos_token,
            **extra,
        )
    except ChatTemplateError:
        raise
    except jinja2.exceptions.SecurityError as e:
        raise ChatTemplateError(f"the chat template tried an unsafe operation: {e}") from None
    except jinja2.TemplateError as e:
        raise ChatTemplateError(f"the chat template failed to render: {e}") from None
