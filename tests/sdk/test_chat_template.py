"""Chat templates are untrusted model data: they render in a sandbox with clear errors."""

from __future__ import annotations

import pytest

from edgeagent.chat_template import render_chat
from edgeagent.errors import ChatTemplateError

MSGS = [{"role": "user", "content": "hello"}]


def test_renders_messages_and_generation_prompt():
    tmpl = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<a>{% endif %}"
    assert render_chat(tmpl, MSGS) == "<user>hello<a>"


def test_tools_are_passed_as_json():
    tmpl = "{% for t in tools %}{{ t | tojson }}{% endfor %}"
    assert render_chat(tmpl, MSGS, tools=[{"name": "f", "x": "é"}]) == '{"name": "f", "x": "é"}'


def test_raise_exception_becomes_a_clear_error():
    with pytest.raises(ChatTemplateError, match="roles must alternate"):
        render_chat("{{ raise_exception('roles must alternate') }}", MSGS)


def test_sandbox_blocks_unsafe_access():
    with pytest.raises(ChatTemplateError, match="unsafe"):
        render_chat("{{ ''.__class__.__mro__[1].__subclasses__() }}", MSGS)
    with pytest.raises(ChatTemplateError):
        render_chat("{% set x = messages.append(1) %}", MSGS)  # immutable sandbox


def test_syntax_error_and_missing_template():
    with pytest.raises(ChatTemplateError, match="does not parse"):
        render_chat("{% for m in messages %}", MSGS)
    with pytest.raises(ChatTemplateError, match="no chat template"):
        render_chat("", MSGS)


@pytest.mark.parametrize("bad", [[], "hello", [{"role": "wizard", "content": "x"}], [{"role": "user", "content": 3}], [1]])
def test_bad_messages(bad):
    with pytest.raises(ChatTemplateError):
        render_chat("{{ messages }}", bad)


def test_qwen_template_renders_tools(qwen):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    text = qwen.render_chat(MSGS, tools=tools)
    assert "<tools>" in text and "get_weather" in text and "<tool_call>" in text
