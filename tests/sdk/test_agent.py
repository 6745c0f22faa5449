"""Agent.call on the real default model: constrained calls, modes, bad tools."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent import Engine
from edgeagent.agent import CALL_STARTS, Agent
from edgeagent.errors import ChatTemplateError, ContextOverflowError, InvalidParameterError, ToolDefinitionError
from edgeagent.tool import tool

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}


@tool
def add_note(title: str, body: str) -> str:
    """Save a note.

    Args:
        title: Short title of the note.
        body: The text of the note.
    """
    return title


@pytest.fixture(scope="module")
def agent(qwen):
    return Agent(engine=qwen)


def test_calls_the_fitting_tool_with_schema_valid_arguments(agent):
    r = agent.call("What's the weather in Oslo in celsius?", [WEATHER, add_note], parallel=False)
    assert [c.name for c in r.calls] == ["get_weather"]
    args = r.calls[0].arguments
    assert args["city"].lower() == "oslo" and args.get("unit", "celsius") in ("celsius", "fahrenheit")
    assert set(args) <= {"city", "unit"}
    assert r.generation.timings.forced_tokens > 0  # the envelope was jumped forward


def test_same_tools_reuse_the_prefix_cache(agent):
    agent.call("Weather in Rome?", [WEATHER, add_note])
    r = agent.call("Weather in Lima?", [WEATHER, add_note])
    assert r.generation.timings.cached_tokens > 100  # the system-and-tools block


def test_modes(agent):
    none = agent.call("What's the weather in Oslo?", [WEATHER], mode="none", max_tokens=30)
    assert none.calls == [] and none.text
    # words, not a call written as text (the model's first wish here is a ```json fence)
    assert not none.text.startswith(CALL_STARTS) and "```json" not in none.text
    named = agent.call("Remember that the meeting moved to 3pm.", [WEATHER, add_note], mode="add_note")
    assert named.calls and all(c.name == "add_note" for c in named.calls)
    required = agent.call("hello there", [WEATHER], mode="required", parallel=False)
    assert len(required.calls) == 1 and required.calls[0].name == "get_weather"


def test_bad_tools_and_modes_are_refused(agent):
    with pytest.raises(ToolDefinitionError, match="get_weather"):
        agent.call("hi", [WEATHER, WEATHER])
    with pytest.raises(ToolDefinitionError):
        agent.call("hi", [{"type": "function", "function": {"name": "bad name!", "parameters": {"type": "object"}}}])
    with pytest.raises(InvalidParameterError, match="mode"):
        agent.call("hi", [WEATHER], mode="sometimes")
    with pytest.raises(InvalidParameterError, match="no tools"):
        agent.call("hi", [])


@pytest.mark.parametrize("argument", [
    {"max_tokens": "5"}, {"max_tokens": 0}, {"max_tokens": True}, {"end_bias": float("nan")}, {"end_bias": "8"},
    {"guard": "no_exfiltration"}, {"ground": "no"}, {"parallel": 0}, {"now": "2026-03-17"}, {"top_k": 0}])
def test_bad_arguments_are_refused_by_name(agent, argument):
    # before: max_tokens="5" raised TypeError, guard="..." AttributeError; ground="no" and
    # end_bias=nan were taken as they were
    name = next(iter(argument))
    with pytest.raises(InvalidParameterError, match=name):
        agent.call("Weather in Oslo?", [WEATHER], **argument)


def test_one_tool_not_in_a_list_is_refused(agent):
    with pytest.raises(InvalidParameterError, match="one tool dict"):
        agent.call("Weather in Oslo?", WEATHER)
    with pytest.raises(InvalidParameterError, match="one tool dict"):
        agent.warm(WEATHER)


def test_warm_checks_its_context(agent):
    # before: AttributeError or TypeError for each
    for context, what in (("hello", "context must be a list"), (5, "context must be a list"),
                          ([1], "message 0 is a int"), ([{"role": "robot", "content": "x"}], "message 0 has role")):
        with pytest.raises((InvalidParameterError, ChatTemplateError), match=what):
            agent.warm([WEATHER], context=context)


def test_query_longer_than_the_context(qwen_path):
    small = Agent(engine=Engine(qwen_path, n_ctx=256, n_threads=2))
    with pytest.raises(ContextOverflowError):
        small.call("weather " * 400, [WEATHER])


def test_model_without_tool_format_is_refused(gemma):
    with pytest.raises(ChatTemplateError, match="tool format"):
        Agent(engine=gemma)


def test_cli_call_prints_calls(cli, tmp_path, qwen_path):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([WEATHER]))
    r = cli("call", "What's the weather in Paris?", "--tools", str(tools), "--threads", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["calls"][0]["name"] == "get_weather" and out["calls"][0]["arguments"]["city"] == "Paris"
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    r = cli("call", "hi", "--tools", str(bad))
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    # the relevance bar: -1 never declines, 1 always does; out of range is refused
    sums = tmp_path / "sums.json"
    sums.write_text(json.dumps([{"type": "function", "function": {
        "name": "sum_numbers", "description": "Adds numbers.", "parameters": {"type": "object", "required": ["numbers"],
                                                                              "properties": {"numbers": {"type": "array", "items": {"type": "number"}}}}}}]))
    r = cli("call", "What is 4 plus 9?", "--tools", str(sums), "--threads", "2", "--relevance", "1")
    assert r.returncode == 0 and json.loads(r.stdout)["calls"] == [], r.stderr
    r = cli("call", "What is 4 plus 9?", "--tools", str(sums), "--threads", "2", "--relevance", "-1")
    assert r.returncode == 0 and json.loads(r.stdout)["calls"][0]["arguments"] == {"numbers": [4, 9]}, r.stdout
    r = cli("call", "hi", "--tools", str(sums), "--relevance", "1.5")
    assert r.returncode == 2 and "--relevance" in r.stderr


REMINDER = {"type": "function", "function": {
    "name": "set_reminder", "description": "Set a reminder at a date and time.",
    "parameters": {"type": "object", "properties": {
        "when": {"type": "string", "description": "When to remind, 'YYYY-MM-DD HH:MM'."},
        "text": {"type": "string", "description": "What to remind about."}}, "required": ["when", "text"]}}}
SCHEDULE = {"type": "function", "function": {
    "name": "get_match_schedule", "description": "Retrieve the schedule of cricket matches for a specific date.",
    "parameters": {"type": "object", "properties": {
        "date": {"type": "string", "description": "The date, in YYYY-MM-DD format."}}, "required": ["date"]}}}
NOW = dt.datetime(2026, 3, 17, 14, 5)


def test_a_day_counted_from_now_is_the_clock_s(agent):
    # the 0.5B model writes a day of its training data for "tomorrow" (2023-10-01 09:00)
    r = agent.call("Remind me to call mom tomorrow at 9am", [REMINDER], now=NOW)
    assert [c.arguments["when"] for c in r.calls] == ["2026-03-18 09:00"]
    # its "today" was judged made up, and the turn answered in text
    r = agent.call("Which cricket matches are on today?", [SCHEDULE], now=NOW)
    assert [c.arguments for c in r.calls] == [{"date": "2026-03-17"}]
    r = agent.call("Remind me in 2 hours to take the pizza out", [REMINDER], now=NOW)
    assert [c.arguments["when"] for c in r.calls] == ["2026-03-17 16:05"]
    # "at 8" is a time of day, in the evening "tonight" (the model wrote 08:00)
    r = agent.call("remind me tonight at 8 to call mom", [REMINDER], now=NOW)
    assert [c.arguments["when"] for c in r.calls] == ["2026-03-17 20:00"]
    with pytest.raises(InvalidParameterError, match="now must be a datetime"):
        agent.call("Remind me tomorrow", [REMINDER], now="2026-03-17")


def test_a_number_written_in_words_is_the_user_s(agent):
    timer = {"type": "function", "function": {
        "name": "set_timer", "description": "Start a countdown timer.",
        "parameters": {"type": "object", "required": ["minutes"], "properties": {
            "minutes": {"type": "integer", "description": "Length of the timer in minutes."}}}}}
    # 15 was judged to state nothing the user said, and the turn answered in text
    r = agent.call("Set a timer for fifteen minutes", [timer])
    assert [c.arguments["minutes"] for c in r.calls] == [15]


def test_cli_call_counts_days_from_now(cli, tmp_path, qwen_path):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([REMINDER]))
    r = cli("call", "Remind me to call mom tomorrow at 9am", "--tools", str(tools), "--threads", "2",
            "--now", "2026-03-17T14:05")
    assert r.returncode == 0, r.stderr
    assert [c["arguments"]["when"] for c in json.loads(r.stdout)["calls"]] == ["2026-03-18 09:00"]
    r = cli("call", "Remind me tomorrow", "--tools", str(tools), "--now", "next Tuesday")
    assert r.returncode == 2 and "--now 'next Tuesday' is not an ISO 8601" in r.stderr


def test_parallel_request_gives_one_call_per_item(agent):
    r = agent.call("What's the weather in Oslo, in Lima and in Tokyo?", [WEATHER, add_note])
    assert sorted(c.arguments["city"].lower() for c in r.calls) == ["lima", "oslo", "tokyo"]
    single = agent.call("What's the weather in Oslo?", [WEATHER, add_note])
    assert [c.arguments["city"].lower() for c in single.calls] == ["oslo"]


@tool
def average(numbers: list[float]) -> float:
    """Mean of a list of numbers.

    Args:
        numbers: The numbers to average.
    """
    return sum(numbers) / len(numbers)


def test_a_list_that_repeats_its_call_is_ended_there(agent):
    """Asked for one average, the 0.5B model writes the call over and over: the decode
    ends at the first repeat, which is not kept."""
    r = agent.call("What is the average of 4, 8, 15, 16, 23 and 42?", [average])
    assert [c.to_dict() for c in r.calls] == [{"name": "average", "arguments": {"numbers": [4, 8, 15, 16, 23, 42]}}]
    assert r.generation.finish_reason == "cancelled" and r.generation.text.count('"name"') == 2


POPULATION = {"type": "function", "function": {
    "name": "city_population", "description": "Population of a city in a given year.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "year": {"type": "integer", "description": "Year of the census"}}, "required": ["city", "year"]}}}


def test_two_lists_in_a_request_ask_for_every_combination(agent):
    """Two cities and two years are four calls (the model alone pairs the lists off); "respectively" pairs them."""
    r = agent.call("What was the population of Lyon and Porto in 1990 and 2010?", [POPULATION, WEATHER])
    assert sorted((c.arguments["city"].lower(), c.arguments["year"]) for c in r.calls) == [
        ("lyon", 1990), ("lyon", 2010), ("porto", 1990), ("porto", 2010)]
    paired = agent.call("What was the population of Lyon and Porto in 1990 and 2010 respectively?",
                        [POPULATION, WEATHER])
    assert len(paired.calls) < 4


def test_irrelevant_request_gets_text_and_no_call(agent):
    r = agent.call("Tell me a joke about penguins.", [WEATHER])
    assert r.calls == [] and r.text


@pytest.mark.parametrize("query", ["?", "\u00b9\u00b2\u00b3", "\u200b", "42 !!", "\u2026 \u00bd"])
def test_auto_mode_makes_no_call_for_a_query_without_letters(agent, query):
    # Before: the model called get_weather(city="London", unit="celsius") for each; the
    # embedder and the checks of invented values stand aside for a query that is not English.
    assert agent.call(query, [WEATHER], max_tokens=64).calls == []
    assert [c.name for c in agent.call(query, [WEATHER], mode="required", max_tokens=64).calls] == ["get_weather"]


def test_an_empty_query_or_a_bad_conversation_is_refused(agent, cli, tmp_path):
    for query in ("", "  \n\t"):
        with pytest.raises(InvalidParameterError, match="query is empty"):
            agent.call(query, [WEATHER])
    # before: a TypeError for 123, and [] was answered in text as if something was asked
    for query, what in ((123, "must be a list"), ([], "empty"), (["hi"], "message 0 is a str"),
                        ([{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}], "message 1 has role")):
        with pytest.raises(ChatTemplateError, match=what):
            agent.call(query, [WEATHER])
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([WEATHER]))
    r = cli("call", " ", "--tools", str(tools))
    assert r.returncode == 2 and "query is empty" in r.stderr


DISTANCE = {"type": "function", "function": {
    "name": "distance_calculator.calculate", "description": "Distance between two geographical coordinates.",
    "parameters": {"type": "object", "properties": {
        "coordinate_1": {"type": "array", "items": {"type": "number"}, "description": "First coordinates."},
        "coordinate_2": {"type": "array", "items": {"type": "number"}, "description": "Second coordinates."}},
        "required": ["coordinate_1", "coordinate_2"]}}}


def test_a_declined_request_is_answered_in_words_not_about_the_tools(agent):
    # Under the call guide alone the model wrote "Mark the function as
    # `distance_calculator.calculate` and the arguments as `3, -2, -5`."
    r = agent.call("Solve for the roots of the equation 3x^2 - 2x - 5.", [DISTANCE], max_tokens=60)
    assert r.calls == [] and r.text
    assert "distance" not in r.text.lower() and "function" not in r.text.lower() and not r.text.startswith("Mark")


def test_a_query_the_embedder_cannot_read_is_judged_by_the_model(agent):
    from edgeagent.agent import _registry, _with_call_guide

    def scores(query):
        return agent._tool_scores(_with_call_guide([{"role": "user", "content": query}]), _registry([WEATHER]))
    assert scores("What's the weather in Beijing?") is not None
    assert scores("我想知道北京的天气") is None and scores("¿Qué tiempo hace en Madrid?") is None
    # relevance is judged on all the user said too: a short answer goes on the request
    answer = [{"role": "user", "content": "What's the weather like in Oslo today?"},
              {"role": "assistant", "content": "In celsius or in fahrenheit?"},
              {"role": "user", "content": "I'd like it in celsius, please."}]
    alone = agent._tool_scores(_with_call_guide(answer[-1:]), _registry([WEATHER]))[0]["get_weather"]
    relevance, last, _ = agent._tool_scores(_with_call_guide(answer), _registry([WEATHER]))
    assert alone + 0.1 < relevance["get_weather"]  # 0.30 alone, 0.44 with the request
    assert last["get_weather"] == pytest.approx(alone)  # tool choice: the last message's
    r = agent.call(answer, [WEATHER])
    assert [(c.name, c.arguments["city"]) for c in r.calls] == [("get_weather", "Oslo")]
    # all-MiniLM-L6-v2 puts this below the relevance threshold; the model calls the tool
    r = agent.call("我想知道北京的天气", [WEATHER])
    assert [c.name for c in r.calls] == ["get_weather"]
    assert "北京" in r.calls[0].arguments["city"] or "beijing" in r.calls[0].arguments["city"].lower()


def test_a_query_that_names_a_tools_subject_lowers_the_relevance_bar():
    from edgeagent.agent import NAMED_RELEVANCE_THRESHOLD, RELEVANCE_THRESHOLD, _names_a_tool, _registry

    todo = {"name": "todo", "description": "Manages a todo list.", "parameters": {"type": "object", "properties": {}}}
    info = {"name": "get_info", "description": "Details.", "parameters": {"type": "object", "properties": {}}}
    tools = _registry([todo, info])
    between = (NAMED_RELEVANCE_THRESHOLD + RELEVANCE_THRESHOLD) / 2
    asked = "add 'go for shopping at 9 pm' to my todos"
    assert _names_a_tool(asked, {"todo": between, "get_info": 0.0}, tools)
    assert not _names_a_tool(asked, {"todo": NAMED_RELEVANCE_THRESHOLD - 0.01, "get_info": 0.0}, tools)
    assert not _names_a_tool("add 'go for shopping' to my list", {"todo": between, "get_info": 0.0}, tools)
    # "get" and "info" tell nothing of a tool's subject
    assert not _names_a_tool("get me the info", {"todo": 0.0, "get_info": between}, tools)


NEWS = {"type": "function", "function": {
    "name": "get_news_report", "description": "Fetches the latest news headlines on a topic.",
    "parameters": {"type": "object", "required": ["topic"], "properties": {
        "topic": {"type": "string", "description": "The news topic."}}}}}


def test_a_short_request_that_names_its_tool_gets_its_call(agent):
    # embedded by its topic, the request scores 0.14 against the tool: below the plain bar
    r = agent.call("any news about electric cars?", [NEWS])
    assert [(c.name, c.arguments["topic"].lower()) for c in r.calls] == [("get_news_report", "electric cars")]
    assert agent.call("any idea about electric cars?", [NEWS]).calls == []  # no tool named: the plain bar


def test_a_query_that_names_a_tools_option_lowers_the_relevance_bar():
    from edgeagent.agent import NAMED_RELEVANCE_THRESHOLD, RELEVANCE_THRESHOLD, _names_a_tool, _registry

    weather = {"name": "get_current_weather", "description": "Current weather conditions for a location.",
               "parameters": {"type": "object", "properties": {
                   "location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                   "detailed": {"type": "string", "enum": ["true", "false"]},
                   "stops": {"type": "array", "items": {"type": "string", "enum": ["Pet-friendly", "on"]}}}}}
    tools = _registry([weather])
    between = (NAMED_RELEVANCE_THRESHOLD + RELEVANCE_THRESHOLD) / 2
    assert _names_a_tool("How hot is it in Austin? Give it to me in Fahrenheit.", {"get_current_weather": between},
                         tools)
    assert _names_a_tool("a pet friendly stop on the way", {"get_current_weather": between}, tools)  # nested, words
    assert not _names_a_tool("How hot is it in Austin? Fahrenheit.",
                             {"get_current_weather": NAMED_RELEVANCE_THRESHOLD - 0.01}, tools)
    # generic or short options, and a part of an option's words, tell nothing
    assert not _names_a_tool("is that true? turn it on", {"get_current_weather": between}, tools)
    assert not _names_a_tool("is my dog friendly?", {"get_current_weather": between}, tools)


def test_auto_mode_answers_in_text_when_the_models_first_token_starts_no_call(agent, monkeypatch):
    # The decision is the model's own first token, read off the call's first batch: where
    # it starts no call (here: no token counts as a call start), a text answer follows.
    called = agent.call("What's the weather in Oslo?", [WEATHER], parallel=False)
    assert [c.name for c in called.calls] == ["get_weather"]
    assert called.generation.gate_token in agent.engine.tokens_starting(("<tool_call>", "```", "{", "["))
    monkeypatch.setattr(agent, "_call_starts", lambda: [])
    r = agent.call("What's the weather in Oslo?", [WEATHER], parallel=False)
    assert r.calls == [] and r.text
    assert agent.call("What's the weather in Oslo?", [WEATHER], mode="required", parallel=False).calls


def test_warm_puts_the_tools_prefix_in_the_cache(agent, monkeypatch):
    import edgeagent.agent
    from edgeagent.agent import _with_call_guide
    from edgeagent.tool import ToolRegistry

    built = []  # pint's unit table is built by warm, not by the first call (~0.4 s)
    monkeypatch.setattr(edgeagent.agent, "unit_registry", lambda: built.append(1))
    agent.warm([WEATHER, add_note])
    assert built
    # what call() evaluates first: only the query is new
    messages = _with_call_guide([{"role": "user", "content": "Weather in Quito?"}])
    t = agent.engine.chat(messages, tools=ToolRegistry([WEATHER, add_note]).schemas(), max_tokens=1).timings
    assert t.cached_tokens > 150 and t.prompt_tokens - t.cached_tokens < 25
    assert agent.call("Weather in Quito?", [WEATHER, add_note], parallel=False).calls[0].arguments["city"].lower() == "quito"


def test_hermes_format_is_still_available(qwen):
    hermes = Agent(engine=qwen, call_format="hermes")
    r = hermes.call("What's the weather in Oslo?", [WEATHER], parallel=False)
    assert [c.name for c in r.calls] == ["get_weather"]
    r = hermes.call("What is the average of 4, 8, 15, 16, 23 and 42?", [average])  # ended at its first repeat
    assert [c.to_dict() for c in r.calls] == [{"name": "average", "arguments": {"numbers": [4, 8, 15, 16, 23, 42]}}]
    assert r.generation.finish_reason == "cancelled" and r.generation.text.count("<tool_call>") == 2
    with pytest.raises(InvalidParameterError, match="call_format"):
        Agent(engine=qwen, call_format="xml")
    for bad in (1.5, -2, "high", True):
        with pytest.raises(InvalidParameterError, match="relevance_threshold"):
            Agent(engine=qwen, relevance_threshold=bad)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"name": st.text(max_size=8),
                                       "arguments": st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=6),
                                                                    max_size=3)}),
                min_size=1, max_size=4),
       st.floats(0.0, 1.0))
def test_a_reply_cut_by_max_tokens_keeps_its_complete_calls(calls, where):
    from edgeagent.agent import _complete_calls

    text = "[" + ", ".join(json.dumps(c) for c in calls) + "]"  # the grammar's shape
    assert _complete_calls(text) == (calls, False)
    cut = int(where * (len(text) - 1))
    items, truncated = _complete_calls(text[:cut])
    assert truncated
    assert items == [c for i, c in enumerate(calls) if len("[" + ", ".join(json.dumps(x) for x in calls[:i + 1])) <= cut]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 2}},
                                 {"name": "g", "arguments": {"x": 1, "y": "}, {"}}, {"name": "g", "arguments": {}}]),
                min_size=1, max_size=5),
       st.lists(st.integers(1, 12), min_size=1, max_size=60), st.sampled_from(["json", "hermes"]))
def test_a_list_of_calls_is_ended_at_its_first_repeat(calls, sizes, call_format):
    from edgeagent.agent import _RepeatWatch

    def written(calls):  # as the format's grammar writes them
        if call_format == "hermes":
            return "".join(f"<tool_call>\n{json.dumps(c)}\n</tool_call>\n" for c in calls)
        return "[" + ", ".join(json.dumps(c) for c in calls)
    text = written(calls) + ("" if call_format == "hermes" else "]")
    repeat = next((i for i, c in enumerate(calls) if c in calls[:i]), None)
    watch, fed, pos = _RepeatWatch(call_format), "", 0
    for size in sizes * len(text):  # the text in pieces of these sizes
        piece, pos = text[pos:pos + size], pos + size
        fed += piece
        if not watch(piece):
            break
        if pos >= len(text):
            break
    assert watch.repeat_at == repeat
    if repeat is not None:  # ended at the piece that closed the repeat, not before, not after
        closed = len(written(calls[:repeat + 1]).rstrip("\n"))
        assert closed <= len(fed) < closed + len(piece)


def test_calls_whose_values_are_all_invented_state_nothing():
    from edgeagent.agent import ToolCall, _states_anything

    asked = [{"role": "user", "content": "Which blood cells are responsible for clotting?"}]
    assert not _states_anything(asked, [ToolCall("cell_type", {"nucleus_count": 10, "organism": "human"})])
    assert _states_anything(asked, [ToolCall("cell_type", {"function": "clotting"})])
    assert _states_anything(asked, [ToolCall("now", {})])  # nothing to state
    # a value from a tool's result earlier in the conversation counts
    told = asked + [{"role": "tool", "content": '{"email": "ana@example.com"}'}]
    assert _states_anything(told, [ToolCall("send", {"to": "ana@example.com"})])


MEASURE = {"type": "function", "function": {
    "name": "convert_measure", "description": "Convert an amount from one unit to another, e.g. 5 km to miles.",
    "parameters": {"type": "object", "properties": {
        "amount": {"type": "number", "description": "The amount."},
        "from_unit": {"type": "string"}, "to_unit": {"type": "string", "description": "Unit of the result."},
        "precision": {"type": "integer", "default": 2}, "round_up": {"type": "boolean", "default": False},
        "label": {"type": "string", "description": "A name for the result."},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Labels, e.g. ['cooking']."}},
        "required": ["amount", "from_unit", "to_unit"]}}}
# Words and signs the checks read: numbers, units, dates and times, names, list words.
_SAID = ["Oslo", "Denver", "celsius", "tomorrow at 9am", "in 2 hours", "next Friday", "2024-02-30", "5%", "50 million",
         "10km/h", "$20", "€5", "°C", "m³", "twenty-one", "a dozen", "C#", "5'11\"", "and", "the", "first", "second",
         "respectively", "not", "without", "km", "miles", "\u200b", "\n", "'", '"', "(", "]"]
# Numbers in other writings: "٣" is a decimal digit, "¹" and "①" digits float() cannot read,
# "½" and "Ⅻ" numerals (hypothesis alone seldom draws them).
_NUMBERS = st.sampled_from(["7", "٣", "¹", "²", "①", "½", "Ⅻ", "3.5", "1e3"]) | \
    st.text(st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=2)


def _value_of(schema: dict, key: str):
    """A strategy for values valid under the simple schemas above: words and numbers a user
    writes, or a word of the parameter's name with one of them (the model writes "Mission 1")."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        said = st.sampled_from(_SAID) | _NUMBERS
        return said | st.text(max_size=12) | st.builds("{} {}".format, st.sampled_from(key.split("_")), said)
    if kind == "number":
        return st.integers(-10**6, 10**6) | st.floats(-1e9, 1e9, allow_nan=False)
    if kind == "integer":
        return st.integers(-10**6, 10**6)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value_of(schema.get("items") or {"type": "string"}, key), max_size=4)
    raise AssertionError(schema)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_checks_of_calls_never_fail_and_keep_calls_valid(data):
    # What the agent does to the model's calls (dates as told, grounding, conforming to the
    # descriptions, the invented-value and list checks) meets any query and any calls: before
    # e2eedad a superscript digit in a value made grounding raise ValueError.
    from edgeagent.agent import (ToolCall, _completed, _conformed, _dated, _grounded, _invents, _needed, _pruned,
                                 _registry, _states_nothing)
    from edgeagent.datetimes import at
    from edgeagent.grounding import QueryFacts, crossed

    registry = _registry([WEATHER, REMINDER, DISTANCE, MEASURE])
    calls = []
    for _ in range(data.draw(st.integers(1, 3))):
        t = registry.get(data.draw(st.sampled_from(registry.names())))
        properties, required = t.parameters["properties"], set(t.parameters.get("required", []))
        chosen = [k for k in properties if k in required or data.draw(st.booleans())]
        calls.append(ToolCall(t.name, {k: data.draw(_value_of(properties[k], k)) for k in chosen}))
        t.validate_arguments(calls[-1].arguments)  # the strategy's own check
    # The query says some of what the calls are about and some of their values, among other words.
    about = [w for c in calls for k in c.arguments for w in k.split("_")] + \
        [str(v) for c in calls for v in c.arguments.values() if isinstance(v, (str, int, float))]
    words = data.draw(st.lists(st.sampled_from(about), max_size=5)) if about else []
    words += data.draw(st.lists(st.sampled_from(_SAID) | _NUMBERS | st.text(max_size=8), min_size=1, max_size=6))
    query = " ".join(data.draw(st.permutations(words)))
    messages = [{"role": "user", "content": query}]
    with at(dt.datetime(2026, 3, 17, 14, 5)):
        as_said = _grounded(_dated(calls, registry, messages), registry, messages)
        written = _conformed(as_said, registry, messages)
        for said, out in zip(as_said, written):
            _invents(messages, said, out, registry)
        _states_nothing(messages, as_said, written)
        facts = QueryFacts(query)
        kept = _needed(facts, _pruned(facts, calls))
        crossed(facts, [(c.name, c.arguments) for c in kept])
    assert [c.name for c in written] == [c.name for c in calls] and all(k in calls for k in kept)
    for c in _completed(written):
        registry.get(c.name).validate_arguments(c.arguments)


def test_conformed_values_are_judged_with_the_values_as_said():
    from edgeagent.agent import ToolCall, _conformed, _invents, _registry, _states_nothing

    lc = {"type": "function", "function": {"name": "resonance", "description": "Resonant frequency of an LC circuit.",
          "parameters": {"type": "object", "required": ["inductance"], "properties": {
              "inductance": {"type": "number", "description": "The inductance in henries (H)."}}}}}
    tools = _registry([lc])
    units = [{"role": "user", "content": "An LC circuit of 50mH"}]
    said = [ToolCall("resonance", {"inductance": 50})]
    written = _conformed(said, tools, units)
    assert written == [ToolCall("resonance", {"inductance": 0.05})]
    # 0.05 alone states nothing the user wrote
    assert not _states_nothing(units, said, written) and not _invents(units, said[0], written[0], tools)
    seven = ToolCall("resonance", {"inductance": 7})
    assert _states_nothing(units, [seven], [seven]) and _invents(units, seven, seven, tools)
    pay = {"type": "function", "function": {"name": "pay", "description": "Pays out dividends.", "parameters": {
           "type": "object", "required": ["payout"], "properties": {"payout": {"type": "integer"}}}}}
    tools = _registry([pay])
    scaled = [{"role": "user", "content": "Pay out 2 million"}]
    slipped = [ToolCall("pay", {"payout": 20000000})]  # a zero too many: invented as said
    fixed = _conformed(slipped, tools, scaled)
    assert fixed == [ToolCall("pay", {"payout": 2000000})]
    assert not _invents(scaled, slipped[0], fixed[0], tools) and _invents(scaled, slipped[0], slipped[0], tools)


def test_a_required_number_nobody_gave_is_invented():
    from edgeagent.agent import ToolCall, _invents_a_value, _registry

    rng = {"type": "function", "function": {"name": "projectile_range", "description": "Range of a projectile.",
           "parameters": {"type": "object", "required": ["velocity", "angle"], "properties": {
               "velocity": {"type": "number"}, "angle": {"type": "number"}, "gravity": {"type": "number"}}}}}
    tools = _registry([rng])
    symbolic = [{"role": "user", "content": "How far does a ball launched at velocity 'v' and angle 'theta' go?"}]
    assert _invents_a_value(symbolic, [ToolCall("projectile_range", {"velocity": 10, "angle": 45})], tools)
    given = [{"role": "user", "content": "How far does a ball launched at 10 m/s and 45 degrees go?"}]
    assert not _invents_a_value(given, [ToolCall("projectile_range", {"velocity": 10, "angle": 45})], tools)
    # an optional argument may carry a constant the user did not write
    assert not _invents_a_value(given, [ToolCall("projectile_range", {"velocity": 10, "angle": 45, "gravity": 9.8})],
                                 tools)
    # a number from a tool's result counts
    told = symbolic + [{"role": "tool", "content": '{"v": 10, "theta": 45}'}]
    assert not _invents_a_value(told, [ToolCall("projectile_range", {"velocity": 10, "angle": 45})], tools)


RESTAURANTS = {"type": "function", "function": {
    "name": "find_restaurants", "description": "Find restaurants in a city.",
    "parameters": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"},
        "cuisine": {"type": "array", "items": {"type": "string"}, "description": "Kinds of food"},
        "price_range": {"type": "string", "enum": ["cheap", "moderate", "expensive"]},
        "open_late": {"type": "boolean"}}}}}


def test_arguments_the_query_does_not_mention_are_left_out(agent):
    query = "Find me a seafood restaurant in Seattle."
    grounded = agent.call(query, [RESTAURANTS], parallel=False)
    written = agent.call(query, [RESTAURANTS], parallel=False, ground=False)
    assert [c.name for c in grounded.calls] == ["find_restaurants"]
    args = grounded.calls[0].arguments
    assert args["city"] == "Seattle" and "price_range" not in args  # nothing in the query says expensive or cheap
    assert all("seafood" in c.lower() for c in args.get("cuisine", []))
    # grounding only takes away from what the model wrote
    assert written.calls and set(args) <= set(written.calls[0].arguments) | {"open_late"}


def test_values_are_written_as_the_descriptions_ask(agent):
    """End to end on the real model: the user's "Denver" and "Euros" go to the tools as
    the descriptions ask (city and state; a currency code), as the model wrote them without
    `ground`."""
    lawyer = {"type": "function", "function": {"name": "lawyer_find", "description": "Find lawyers near a place.",
              "parameters": {"type": "object", "required": ["city", "specialty"], "properties": {
                  "city": {"type": "string", "description": "The city and state, e.g. Chicago, IL."},
                  "specialty": {"type": "string", "description": "Specialty of the lawyer"}}}}}
    money = {"type": "function", "function": {"name": "convert_currency", "description": "Convert money.",
             "parameters": {"type": "object", "required": ["amount", "from_currency", "to_currency"], "properties": {
                 "amount": {"type": "number"},
                 "from_currency": {"type": "string", "description": "The currency to convert from."},
                 "to_currency": {"type": "string", "description": "The currency to convert to."}}}}}
    found = agent.call("Find a divorce lawyer in Denver", [lawyer, money])
    assert [(c.name, c.arguments["city"]) for c in found.calls] == [("lawyer_find", "Denver, CO")]
    assert agent.call("Find a divorce lawyer in Denver", [lawyer, money], ground=False).calls[0].arguments["city"] \
        == "Denver"
    converted = agent.call("How much is 200 Euros in Japanese yen?", [lawyer, money])
    assert [c.to_dict() for c in converted.calls] == [{"name": "convert_currency", "arguments": {
        "amount": 200, "from_currency": "EUR", "to_currency": "JPY"}}]


def _store(name: str) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": "List the vegan products available at a grocery store near a location.",
        "parameters": {"type": "object", "required": ["location"], "properties": {
            "location": {"type": "string", "description": "City"},
            "categories": {"type": "array", "items": {"type": "string"}, "description": "Product categories"}}}}}


def test_latency_counts_every_decode_of_the_turn(agent, monkeypatch):
    """A text answer decodes twice (its first token, then the rest): latency_s is the
    turn's, not the last decode's."""
    totals = []
    chat = agent.engine.chat

    def counted(*a, **k):
        out = chat(*a, **k)
        totals.append(out.timings.total_ms / 1000)
        return out
    monkeypatch.setattr(agent.engine, "chat", counted)
    r = agent.call("What's the weather in Oslo?", [WEATHER], mode="none", max_tokens=20)
    assert len(totals) == 2 and r.latency_s >= sum(totals) > r.generation.timings.total_ms / 1000
    assert r.to_dict()["latency_s"] == r.latency_s


def test_a_fresh_request_goes_to_the_best_matching_tool_first(agent, monkeypatch):
    """Three stores with the same description: the 0.5B model picks another store for
    "the Walmart near Denver"; the tool the query names best gets the call, once."""
    stores = [_store("safeway.vegan_products"), _store("wholefoods.vegan_products"), _store("walmart.vegan_products")]
    generations = []
    chat = agent.engine.chat
    monkeypatch.setattr(agent.engine, "chat", lambda *a, **k: generations.append(1) or chat(*a, **k))
    r = agent.call("Get me a list of vegetarian and gluten-free foods at the Walmart near Denver.", stores)
    assert [c.name for c in r.calls] == ["walmart.vegan_products"]
    assert r.calls[0].arguments["location"] == "Denver"
    # the model's list (another store; its first token, read off the same batch, chose to
    # call), the best match, one call more (refused: it brings nothing new) and once more
    # with that call's tool switched off (refused too)
    assert len(generations) == 4


def test_a_required_text_nobody_gave_is_invented():
    from edgeagent.agent import ToolCall, _invents_a_value, _registry

    players = {"type": "function", "function": {"name": "search_players", "description": "Top players.",
               "parameters": {"type": "object", "required": ["instrument", "genre", "flight"], "properties": {
                   "instrument": {"type": "string", "description": "The instrument, e.g. trumpet"},
                   "genre": {"type": "string", "enum": ["Jazz", "Rock", "Pop"]},
                   "flight": {"type": "string", "description": "Choices include: non-stop, direct."},
                   "city": {"type": "string"}}}}}
    tools = _registry([players])
    asked = [{"role": "user", "content": "Who is the best singer in Jazz, flying from the US?"}]
    call = {"genre": "Jazz", "flight": "direct"}
    assert _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "violin"})], tools)
    assert not _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "singer"})], tools)
    # an example the description gives is no choice; function words say nothing
    assert _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "trumpet"})], tools)
    assert _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "the violin of the US"})],
                            tools)
    # an enum, a choice the description names, an abbreviation, an optional text: not invented
    assert not _invents_a_value(asked, [ToolCall("search_players", {**call, "genre": "Rock", "instrument": "USA"})],
                                tools)
    assert not _invents_a_value(asked, [ToolCall("search_players", {**call, "flight": "non-stop",
                                                                    "instrument": "singer", "city": "Paris"})], tools)
    # ...but one text the user wrote once, given to two of the arguments, is (doubled_value)
    assert _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "jazz"})], tools)
    # a text from a tool's result counts
    told = asked + [{"role": "tool", "content": '{"instrument": "violin"}'}]
    assert not _invents_a_value(told, [ToolCall("search_players", {**call, "instrument": "violin"})], tools)
    # the schema's own default is no invention
    players["function"]["parameters"]["properties"]["instrument"]["default"] = "any instrument"
    assert not _invents_a_value(asked, [ToolCall("search_players", {**call, "instrument": "any instrument"})],
                                _registry([players]))


def test_a_call_that_completes_an_earlier_one_takes_its_place():
    from edgeagent.agent import ToolCall, _added, _pruned
    from edgeagent.grounding import QueryFacts

    q = QueryFacts("Find the size of the sculpture 'David' by Michelangelo, and the Pieta's")
    first = ToolCall("sculpture.get_details", {"artist": "Michelangelo", "title": "David"})
    sized = ToolCall("sculpture.get_details", {"artist": "Michelangelo", "title": "David", "detail": "size"})
    assert _pruned(q, [first, sized]) == [sized]
    calls = [first]
    # more arguments, but none the query states: not a completion, nor a call more
    assert not _added(q, calls, ToolCall("sculpture.get_details", {**first.arguments, "detail": "weight"}))
    assert calls == [first]
    # a different value is another call, after the first
    pieta = ToolCall("sculpture.get_details", {"artist": "Michelangelo", "title": "Pieta"})
    assert _added(q, calls, pieta) and calls == [first, pieta]
    assert _added(q, calls, sized) and calls == [sized, pieta]


def test_a_call_whose_tool_and_values_other_calls_serve_is_left_out():
    from edgeagent.agent import ToolCall, _needed
    from edgeagent.grounding import QueryFacts

    def forecast(what, city):
        return ToolCall(f"weather_forecast_{what}", {"location": city, "days": 10})

    q = QueryFacts("Get the temperature and humidity forecast for Boston and the precipitation forecast for Rome "
                   "for the next 10 days.")
    calls = [forecast("temperature", "Boston"), forecast("humidity", "Boston"), forecast("temperature", "Rome"),
             forecast("precipitation", "Rome")]
    assert _needed(q, calls) == [calls[0], calls[1], calls[3]]  # Rome's temperature was not asked for
    # Both cities for both forecasts: each call takes the pair of the city its tool took.
    grid = QueryFacts("Get the temperature and precipitation forecast for Boston and Rome for the next 10 days.")
    calls = [forecast(w, c) for w in ("temperature", "precipitation") for c in ("Boston", "Rome")]
    assert _needed(grid, calls) == calls
    # One tool alone: combinations of its values stay, whatever other calls use.
    q = QueryFacts("Dividend per share for a payout of 5000000 with 2000000 shares, then 6000000 with 2500000 "
                   "shares, and 6000000 with 2000000 shares.")
    payouts = [ToolCall("dividend", {"payout": p, "shares": n})
               for p, n in ((5000000, 2000000), (6000000, 2500000), (6000000, 2000000))]
    assert _needed(q, payouts) == payouts


def test_calls_another_call_repeats_or_completes_are_left_out():
    from edgeagent.agent import ToolCall, _completed

    a = ToolCall("get", {"title": "David"})
    sized = ToolCall("get", {"title": "David", "detail": "size"})
    other = ToolCall("get", {"title": "Pieta"})
    assert _completed([a, other, sized]) == [other, sized]
    assert _completed([sized, a, sized]) == [sized]  # a repeat: the first one stays
    assert _completed([a, ToolCall("put", {"title": "David", "x": 1})]) == [a, ToolCall("put", {"title": "David", "x": 1})]


def test_a_time_the_model_converts_is_stated_and_written_in_the_described_format(agent):
    alarm = {"type": "function", "function": {"name": "set_alarm", "description": "Sets an alarm for a specific time.",
             "parameters": {"type": "object", "required": ["alarm_time"], "properties": {
                 "alarm_time": {"type": "string", "description": "The alarm time in 24-hour format 'HH:MM'."}}}}}
    # The model writes "06:30 AM" (and "06:30" does not share a word with "6:30 am"): before,
    # the call was judged to state nothing the user said and the turn was answered in text.
    r = agent.call("Set an alarm for 6:30 am", [alarm])
    assert [(c.name, c.arguments) for c in r.calls] == [("set_alarm", {"alarm_time": "06:30"})]
    r = agent.call("Please set an alarm for 5:45 pm", [alarm])
    assert [(c.name, c.arguments) for c in r.calls] == [("set_alarm", {"alarm_time": "17:45"})]


def test_a_short_request_that_matches_its_tool_only_in_part_gets_its_call(agent):
    stock = {"type": "function", "function": {
        "name": "get_stock_price", "description": "Retrieves the latest trading price of a stock.",
        "parameters": {"type": "object", "required": ["ticker"], "properties": {
            "ticker": {"type": "string", "description": "The stock's ticker symbol, such as 'MSFT'."}}}}}
    # 0.31 against the tool: below the relevance bar of before (0.37), answered in text
    r = agent.call("how is AAPL trading today?", [stock])
    assert [(c.name, c.arguments) for c in r.calls] == [("get_stock_price", {"ticker": "AAPL"})]


def test_a_tool_that_measures_another_quantity_is_not_called(agent):
    park = {"type": "function", "function": {
        "name": "calculate_park_area", "description": "Calculate the total area of a park based on the radius of its circular part.",
        "parameters": {"type": "object", "required": ["radius", "units"], "properties": {
            "radius": {"type": "number", "description": "The radius of the circular part of the park."},
            "units": {"type": "string", "description": "The units of the radius."}}}}}
    r = agent.call("Calculate the volume of the sphere with radius 3 units.", [park], max_tokens=40)
    assert r.calls == [] and r.text
    r = agent.call("What is the area of a park with a radius of 3 meters?", [park])
    assert [c.name for c in r.calls] == ["calculate_park_area"] and r.calls[0].arguments["radius"] == 3


def _function(name: str, description: str, **params: str) -> dict:
    """An OpenAI tool with required string parameters (name → description)."""
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
        "required": list(params)}}}


# A library of everyday tools: in a 1,024-token context it leaves the reply no room.
LIBRARY = [WEATHER, add_note, REMINDER, SCHEDULE, DISTANCE,
           _function("convert_currency", "Convert an amount of money from one currency to another.",
                     amount="The amount, e.g. '100'.", source="Currency code to convert from, e.g. USD.",
                     target="Currency code to convert to, e.g. EUR."),
           _function("translate_text", "Translate a text into another language.", text="The text to translate.",
                     language="The language to translate into."),
           _function("play_music", "Play a song or an artist's music.", song="The song or artist to play."),
           _function("search_flights", "Search flights between two airports on a date.", origin="Departure city.",
                     destination="Arrival city.", date="Travel date, YYYY-MM-DD."),
           _function("book_hotel", "Book a hotel room in a city.", city="The city.", check_in="YYYY-MM-DD.",
                     nights="Number of nights."),
           _function("get_stock_price", "Latest trading price of a stock.", symbol="Ticker symbol, e.g. AAPL."),
           _function("send_email", "Send an email to a contact.", to="The recipient's address.",
                     subject="The subject line.", body="The message."),
           _function("calculate_bmi", "Body mass index from weight and height.", weight="Weight in kg.",
                     height="Height in cm.")]


@pytest.fixture(scope="module")
def small_agent(qwen_path):
    return Agent(engine=Engine(qwen_path, n_ctx=1024, n_threads=2))


def test_a_library_too_big_for_the_context_shows_its_best_matches(small_agent, agent):
    from edgeagent.agent import AUTO_TOP_K

    names = [t["function"]["name"] if isinstance(t, dict) else t.name for t in LIBRARY]
    # before: ContextOverflowError, for the warm-up and for every call
    small_agent.warm(LIBRARY)
    r = small_agent.call("What's the weather in Oslo?", LIBRARY, parallel=False)
    assert [c.name for c in r.calls] == ["get_weather"] and r.calls[0].arguments["city"] == "Oslo"
    assert len(LIBRARY) - AUTO_TOP_K <= len(r.left_out_tools) < len(LIBRARY)
    assert set(r.left_out_tools) < set(names) and "get_weather" not in r.left_out_tools
    assert r.to_dict()["left_out_tools"] == r.left_out_tools
    # with room for all, all are shown
    assert agent.call("What's the weather in Oslo?", LIBRARY, parallel=False).left_out_tools == []


def test_warm_embeds_each_text_of_a_library_once(qwen, monkeypatch):
    from edgeagent import toolrag

    embedder, embedded = toolrag.shared_embedder(), []
    embed = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts, **kw: embedded.extend(texts) or embed(texts, **kw))
    small = Agent(engine=Engine(qwen.model_path, n_ctx=1024, n_threads=2))
    small.warm(LIBRARY)
    # three texts per tool for the agent's own scores, the first also retrieval's: before,
    # retrieval and the agent each embedded the full texts
    tools = [t for t in embedded if t != "?"]
    assert len(tools) == len(set(tools)) and len(set(tools)) <= 3 * len(LIBRARY)


def test_top_k_shows_only_the_best_matches_and_always_the_named_tool(agent):
    r = agent.call("Convert 100 US dollars to euros.", LIBRARY, top_k=2, parallel=False)
    assert [c.name for c in r.calls] == ["convert_currency"] and len(r.left_out_tools) == len(LIBRARY) - 2
    named = agent.call("What's the weather in Oslo?", LIBRARY, mode="add_note", top_k=1, parallel=False)
    assert [c.name for c in named.calls] == ["add_note"] and "add_note" not in named.left_out_tools
    agent.call("Weather in Rome?", [WEATHER, add_note], top_k=5)  # as many as there are: all, as given
    assert agent.call("Weather in Lima?", [WEATHER, add_note], top_k=5).generation.timings.cached_tokens > 100
    for bad in (0, -3, True, 2.5, "3"):
        with pytest.raises(InvalidParameterError, match="top_k"):
            agent.call("Weather in Oslo?", LIBRARY, top_k=bad)


def test_what_cannot_fit_is_named(small_agent):
    with pytest.raises(ContextOverflowError, match="conversation alone takes"):
        small_agent.call("weather " * 1200, LIBRARY)
    huge = _function("get_news", "Latest news. " + "Covers world, sport, science and culture. " * 150, topic="Topic.")
    with pytest.raises(ContextOverflowError, match="tool 'get_news' alone takes"):
        small_agent.call("Any news about the Mars mission?", [huge])


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_the_tools_shown_fit_and_with_those_left_out_make_the_library(small_agent, data):
    from edgeagent.agent import AUTO_TOP_K, REPLY_ROOM, _with_call_guide
    from edgeagent.tool import ToolRegistry

    library = ToolRegistry(data.draw(st.lists(st.sampled_from(LIBRARY), min_size=1, unique_by=id)))
    mode = data.draw(st.sampled_from(["auto", "none"] + library.names()))
    top_k = data.draw(st.none() | st.integers(1, 20))
    query = data.draw(st.sampled_from(["Weather in Lima?", "Book a hotel in Rome and email Ann about it.", "?"]))
    messages = _with_call_guide([{"role": "user", "content": query}])
    shown, left_out = small_agent._shown_tools(messages, library, mode, top_k, 512)
    assert sorted(shown.names() + left_out) == sorted(library.names()) and not set(shown.names()) & set(left_out)
    assert len(shown) <= (top_k or len(library)) and (left_out == [] or len(shown) <= (top_k or AUTO_TOP_K))
    assert small_agent._prompt_tokens(messages, shown.schemas()) <= small_agent.engine.n_ctx - REPLY_ROOM
    assert mode not in library or mode in shown


def test_cli_call_top_k(cli, tmp_path, qwen_path):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([t if isinstance(t, dict) else t.schema for t in LIBRARY]))
    r = cli("call", "What's the weather in Paris?", "--tools", str(tools), "--top-k", "3", "--single",
            "--threads", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [c["name"] for c in out["calls"]] == ["get_weather"] and len(out["left_out_tools"]) == len(LIBRARY) - 3
    r = cli("call", "hi", "--tools", str(tools), "--top-k", "0")
    assert r.returncode == 2 and "--top-k" in r.stderr


ASKED = {"role": "user", "content": "What's the weather in Paris?"}
CALLED = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}
RESULT = {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"temp_c": 18, "sky": "cloudy"})}
ANSWERED = {"role": "assistant", "content": "It is 18 °C and cloudy in Paris."}


def test_a_conversation_goes_on_after_a_tool_result(agent):
    # given the result, the model repeated the call it sees; the turn answers from the result
    r = agent.call([ASKED, CALLED, RESULT], [WEATHER])
    assert r.calls == [] and "18" in r.text
    # after a text answer the model answered in text again ("London and Berlin have sunny days")
    r = agent.call([ASKED, CALLED, RESULT, ANSWERED, {"role": "user", "content": "Thanks! What about London and Berlin?"}],
                   [WEATHER])
    assert sorted(c.arguments["city"] for c in r.calls) == ["Berlin", "London"]
    r = agent.call([ASKED, CALLED, RESULT, ANSWERED, {"role": "user", "content": "Thanks!"}], [WEATHER])
    assert r.calls == [] and r.text
    # asked for again, the same call is made again
    r = agent.call([ASKED, CALLED, RESULT, ANSWERED, {"role": "user", "content": "Check Paris again please"}], [WEATHER])
    assert [c.arguments["city"] for c in r.calls] == ["Paris"]


def test_earlier_calls_are_checked():
    from edgeagent.chat_template import checked_messages

    flat = {"role": "assistant", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    assert [m.get("tool_calls") for m in checked_messages([ASKED, CALLED, flat])] == [None, [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}, "id": "c1"}], [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]]
    bad = [
        ({"role": "user", "content": "hi", "tool_calls": []}, "message 0 has tool_calls but role 'user'"),
        ({"role": "assistant", "tool_calls": {"name": "f"}}, "message 0 tool_calls must be a list"),
        ({"role": "assistant", "tool_calls": ["f"]}, r"message 0 tool_calls\[0\] is a str"),
        ({"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}, "has no function name"),
        ({"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{city"}}]},
         r"tool_calls\[0\] \(f\) arguments are not valid JSON"),
        ({"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]},
         "arguments must be a JSON object"),
    ]
    for message, match in bad:
        with pytest.raises(ChatTemplateError, match=match):
            checked_messages([message])


def test_cli_call_messages(cli, tmp_path, qwen_path):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([WEATHER]))
    conversation = tmp_path / "conversation.json"
    conversation.write_text(json.dumps([ASKED, CALLED, RESULT]))
    r = cli("call", "--tools", str(tools), "--messages", str(conversation), "--threads", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["calls"] == [] and "18" in out["text"]
    assert out["message"] == {"role": "assistant", "content": out["text"]}  # to append to the conversation
    r = cli("call", "And in Rome?", "--tools", str(tools), "--messages", str(conversation), "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert [c["arguments"]["city"] for c in json.loads(r.stdout)["calls"]] == ["Rome"]
    r = cli("call", "--tools", str(tools))
    assert r.returncode == 2 and "give a QUERY, or the conversation with --messages" in r.stderr
    conversation.write_text(json.dumps({"role": "user", "content": "hi"}))
    r = cli("call", "--tools", str(tools), "--messages", str(conversation))
    assert r.returncode == 2 and "must hold a JSON list of messages" in r.stderr
    conversation.write_text(json.dumps([{"role": "robot", "content": "hi"}]))
    r = cli("call", "--tools", str(tools), "--messages", str(conversation), "--model", str(tmp_path / "none.gguf"))
    assert r.returncode == 2 and "message 0 has role 'robot'" in r.stderr  # named before the model would load


def test_the_turn_as_a_message_continues_the_conversation(agent):
    r = agent.call("What's the weather in Paris?", [WEATHER])
    message = r.message
    assert message["role"] == "assistant" and message["content"] is None
    [call] = message["tool_calls"]
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    result = {"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"temp_c": 18, "sky": "cloudy"})}
    answer = agent.call([ASKED, message, result], [WEATHER])
    assert answer.calls == [] and "18" in answer.text
    assert answer.message == {"role": "assistant", "content": answer.text}
    # a call's id is unique across turns, so a tool message answers one call
    again = agent.call("What's the weather in Paris?", [WEATHER]).message["tool_calls"][0]["id"]
    assert again != call["id"] and answer.to_dict()["message"] == answer.message


CAPITAL = {"type": "function", "function": {
    "name": "get_capital", "description": "The capital city of a country.",
    "parameters": {"type": "object", "properties": {"country": {"type": "string", "description": "Country name"}},
                   "required": ["country"]}}}


def test_a_conversation_s_calls_serve_its_latest_request(agent):
    # a new topic: the model called get_weather(city="Paris") from the earlier request
    for question in ["Who wrote Hamlet?", "What is the capital of Spain?"]:
        r = agent.call([ASKED, ANSWERED, {"role": "user", "content": question}], [WEATHER])
        assert r.calls == [] and r.text, question
    r = agent.call([ASKED, ANSWERED, {"role": "user", "content": "Is it warmer than that in Madrid?"}], [WEATHER])
    assert [c.arguments["city"] for c in r.calls] == ["Madrid"]
    # a result the next call needs: the tool message is what this turn answers
    asked = {"role": "user", "content": "What's the weather in the capital of France?"}
    called = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c2", "type": "function", "function": {"name": "get_capital", "arguments": {"country": "France"}}}]}
    result = {"role": "tool", "tool_call_id": "c2", "content": json.dumps({"capital": "Paris"})}
    r = agent.call([asked, called, result], [WEATHER, CAPITAL])
    assert [(c.name, c.arguments["city"]) for c in r.calls] == [("get_weather", "Paris")]
