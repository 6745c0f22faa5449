"""`Assistant`: an offline assistant over the local tools, one conversation at a time.

    assistant = edgeagent.Assistant(data_dir="~/assistant-data")       # plan strategy
    turn = assistant.ask("Note the meeting with Ana on Tuesday at 3 and remind me an hour before")
    turn.calls, turn.text, turn.latency_s

Each turn: tool retrieval keeps the prompt small (the top-k tools for the query);
then either
  * "plan"  — the model writes the whole plan in one constrained pass (`Planner`), the
              `Executor` runs it as a DAG (parallel, guarded, confirmed), re-plans once
              if a call failed, and the model writes the answer from the results; or
  * "react" — one call at a time (`Agent.call`), each result fed back, until the model
              answers in text.
The conversation (user and assistant texts) is kept across turns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from .agent import CALL_STARTS, Agent
from .engine import Engine
from .errors import DecodeError, InvalidParameterError, ToolArgumentError
from .executor import (ConfirmCallback, ExecutionReport, Executor, ReferenceError_, StepOutcome, guard_event,
                       resolve_references)
from .grammar import Grammar
from .grounding import ISO_DATE_TIME, QueryFacts, is_default, leaf_values, name_words, numbers_in, word_in, words_in
from .planner import PLAN_INSTRUCTIONS, Plan, Planner, Step, references_in
from .request import (annotate_dates, clauses, hands_on, possessions, refused_actions, repetition, says_all_day,
                      stated_duration, stated_time, states_a_date)
from .tool import Tool, ToolRegistry
from .toolrag import ToolRAG

__all__ = ["Assistant", "AssistantTurn", "STRATEGIES"]

STRATEGIES = ("plan", "react")
MAX_RESULT_CHARS = 1500  # what one tool result may take of the prompt
STOPPED = "I stopped: a policy rule ended this turn."  # the answer of a turn a guard stopped

EventCallback = Callable[[str, dict], None]
_PROSE = Grammar.from_regex(r"[A-Za-z0-9\"'(][^{}<>\[\]]*")


@dataclass
class _PlanState:
    """What a plan turn carries from call to call."""
    answering: list[dict]  # the conversation the answer is written from: results as they are
    results: dict[int, Any] = field(default_factory=dict)  # every result so far, by step number
    lookups: list[StepOutcome] = field(default_factory=list)  # successful calls without side effects
    stored: list[StepOutcome] = field(default_factory=list)  # those of stored data (not a calculation)
    id_lookups: set[int] = field(default_factory=set)  # steps made to find an id (`_with_looked_up_ids`)
    parts: list[str] = field(default_factory=list)  # the request's clauses
    fitting: list[list[Tool]] = field(default_factory=list)  # per clause, the offered tools that fit it, best first
    clause_of: dict[int, int] = field(default_factory=dict)  # step number -> the clause it answers

    @property
    def carriable(self) -> list[StepOutcome]:
        """The stored results a call may carry a field of: not those looked up for an id
        ("delete the note Old ideas": its search names "note", but nothing of it is asked for)."""
        return [o for o in self.stored if o.step.index not in self.id_lookups]

    def clause(self, step: int) -> Optional[str]:
        """The clause `step` answers, if known."""
        return self.parts[self.clause_of[step]] if step in self.clause_of else None

    def hands_on(self, tool: Tool, step: int, clause_of: Optional[dict[int, int]] = None) -> bool:
        """Whether `step`, a call of `tool`, acts on a clause that hands a result on ("send
        the result to Emma"); a step of no known clause goes by the clauses its tool fits."""
        clause = (self.clause_of if clause_of is None else clause_of).get(step)
        parts = [self.parts[clause]] if clause is not None else [
            p for p, tools in zip(self.parts, self.fitting) if any(t.name == tool.name for t in tools)]
        return tool.side_effect and any(hands_on(p) for p in parts)

    def handed_on(self, tool: Tool, step: int) -> list[StepOutcome]:
        """The lookups before `step` whose result it may take (`_passed_on`), if it hands one on."""
        if not self.hands_on(tool, step):
            return []
        return [o for o in self.lookups if o.step.index < step and o.step.index not in self.id_lookups]

    def add(self, report: ExecutionReport, registry: ToolRegistry) -> None:
        tried = _tried(report)
        self.answering += _result_messages(tried)
        self.results.update({o.step.index: o.result for o in tried if o.ok})
        self.lookups += [o for o in tried if o.ok and not registry.get(o.step.tool).side_effect]
        self.stored += [o for o in tried if _is_stored_lookup(o, registry)]


@dataclass
class AssistantTurn:
    query: str
    strategy: str
    text: str = ""
    calls: list[dict] = field(default_factory=list)  # every call tried: arguments, status, result
    guard: list[dict] = field(default_factory=list)  # every guard decision
    plans: list[dict] = field(default_factory=list)
    tools_offered: list[str] = field(default_factory=list)
    replanned: bool = False
    stopped: bool = False
    generations: int = 0  # model passes (plans, ReAct steps, answer)
    latency_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("query", "strategy", "text", "calls", "guard", "plans",
                                               "tools_offered", "replanned", "stopped", "generations",
                                               "latency_s")}


def _system_prompt(now: dt.datetime) -> str:
    # Small models cannot do calendar arithmetic; a table of the coming days lets them
    # copy "next Tuesday" instead of computing it.
    days = "\n".join(f"- {label}{(now + dt.timedelta(days=i)):%A} = {(now + dt.timedelta(days=i)).date().isoformat()}"
                      for i, label in zip(range(1, 8), ["tomorrow, "] + [""] * 6))
    return (f"You are a helpful assistant running offline on the user's device. You manage the user's files, "
            f"notes, calendar, contacts, messages and reminders with the tools below.\n"
            f"Now: {now:%A} {now.isoformat(timespec='minutes')} (today = {now.date().isoformat()}).\n"
            f"The coming days:\n{days}")


def _call_key(tool: Tool, arguments: dict) -> str:
    """A call as it runs: arguments in their types, those equal to their default left out
    (so {"minutes": 12.0, "label": ""} after {"minutes": 12} is the same timer again)."""
    try:
        typed = tool.validate_arguments(arguments)
    except ToolArgumentError:
        typed = dict(arguments)
    effective = {k: v for k, v in typed.items() if not is_default(tool.parameters or {}, k, v)}
    return json.dumps([tool.name, effective], sort_keys=True, default=str)


def _result_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS] + "…"


def _from_arguments_only(outcome: StepOutcome) -> bool:
    """Whether a result's texts are made of the call's own words and numbers ("12 mile =
    19.3121 km" for convert_units(12, "mile", "km")): nothing stored came with it."""
    own = {w for v in leaf_values(outcome.arguments or {}) for w in words_in(str(v))}
    return all(w.isdigit() or w in own for v in leaf_values(outcome.result) if isinstance(v, str) for w in words_in(v))


_FIELD_NAME = re.compile(r"[A-Za-z0-9_]+")
MAX_SHOWN_ITEMS = 3  # of a listed result, in its by-reference view


def _by_reference(value: Any, path: str) -> Any:
    """A stored result as the plan may use it: its shape, with every value replaced by the
    reference that names it ({"contacts": [{"phone": "$1.contacts.0.phone"}]}). The model
    copies "$1.contacts.0.phone" where the phone number belongs, as it copies a value, and
    the executor writes the number in; no stored text (where an instruction could be
    planted) enters the prompt."""
    if isinstance(value, dict):
        return {k: _by_reference(v, f"{path}.{k}") for k, v in value.items() if _FIELD_NAME.fullmatch(str(k))}
    if isinstance(value, list):
        return [_by_reference(v, f"{path}.{i}") for i, v in enumerate(value[:MAX_SHOWN_ITEMS])]
    return path


def _is_stored_lookup(outcome: StepOutcome, registry: ToolRegistry) -> bool:
    """A successful lookup whose result carries stored text (a file, a note, a contact)."""
    return outcome.ok and not registry.get(outcome.step.tool).side_effect and not _from_arguments_only(outcome)


def _squeezed(text: str) -> str:
    return "".join(text.split()).lower()


def _with_results(arguments: dict, lookups: list[StepOutcome]) -> dict:
    """`arguments` where a text is a lookup's question ("15 * 42", "5 pound") become the
    lookup's sentence ("15 * 42 = 630"): the 0.5B model often copies the input of a
    calculation where its result belongs."""
    sentences = {}
    for o in lookups:
        text = o.result.get("text") if isinstance(o.result, dict) else None
        if isinstance(text, str) and " = " in text:
            sentences[_squeezed(text.split(" = ")[0])] = text
    return {k: sentences.get(_squeezed(v), v) if isinstance(v, str) else v for k, v in arguments.items()}


def _resolvable(arguments: dict, planned: dict, results: dict[int, Any]) -> dict:
    """`arguments` where a value naming a field that a known result does not have ("$1.body"
    of a contact) is the planned one instead (or left out): shown references, the 0.5B
    model also writes "$1.<parameter>" for parameters the result has no field for.
    References to results not known yet are left to the executor."""
    out = {}
    for key, value in arguments.items():
        try:
            if references_in(value) <= results.keys():
                resolve_references(value, results)
            out[key] = value
        except ReferenceError_:
            if key in planned:
                out[key] = planned[key]
    return out


def _field_names(value: Any) -> list[str]:
    """The field names in a result, outermost first."""
    return list(dict.fromkeys(k for n in _nodes(value) if isinstance(n, dict) for k in n
                              if _FIELD_NAME.fullmatch(str(k))))


def _is_text(schema: Any) -> bool:
    """A parameter that takes free text (not a choice, a date, a pattern)."""
    if not isinstance(schema, dict) or any(c in schema for c in ("enum", "const", "format", "pattern")):
        return False
    kinds = schema.get("type")
    if kinds == "string" or (isinstance(kinds, list) and "string" in kinds):
        return True
    return any(_is_text(m) for m in schema.get("anyOf") or [])


def _carried(tool: Tool, arguments: dict, lookups: list[StepOutcome], query: str) -> dict:
    """`arguments` with the value the request asks to carry from a stored lookup: a field
    of the result the request names ("Ana's phone number" -> `phones`, "with its
    contents" -> `content`) that the call does not hold yet goes, by reference, into the
    call's text most likely made up: one the request does not state, prose, the longest
    ("Hello, Carla!", not "Ana"). The 0.5B model rarely writes "$1.phone" itself and
    never sees the stored value (`_by_reference`)."""
    said = set(words_in(query))
    target = _made_up_text(tool, arguments, query)
    for o in lookups:
        asked = [f for f in _field_names(o.result) if f not in (o.arguments or {}) and word_in(f, said)]
        if not asked or target is None:
            continue
        # the field as the request says it: "$1.phone" of "phones" is the first phone
        word = next(w for w in (asked[0], asked[0] + "s", asked[0][:-1]) if w in said)
        reference = f"${o.step.index}.{word}"
        value = resolve_references(reference, {o.step.index: o.result})
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if not any(text in str(v) for v in arguments.values()):
            return {**arguments, target: reference}
    return arguments


def _made_up_text(tool: Tool, arguments: dict, query: str) -> Optional[str]:
    """The call's text argument most likely made up: one the request does not state,
    prose, the longest ("Hello, Carla!", not "Ana"); None if it has no free text."""
    facts = QueryFacts(query)
    properties = (tool.parameters or {}).get("properties") or {}
    # a date or a time ("at": "2026-03-16T15:00") is no made-up text to replace
    texts = [k for k, v in arguments.items() if isinstance(v, str) and v and not references_in(v)
             and _is_text(properties.get(k)) and not ISO_DATE_TIME.fullmatch(v.strip())]
    return max(texts, key=lambda k: (not facts.states(arguments[k]), " " in arguments[k], len(arguments[k])),
               default=None)


def _passed_on(tool: Tool, arguments: dict, lookups: list[StepOutcome], query: str) -> dict:
    """`arguments` of a call whose clause hands on a result ("send the result to Emma", "a
    note saying what you found": `request.hands_on`) with the latest lookup's result, by
    reference, in its made-up text, unless the call already holds something of it. The
    0.5B model writes its own body ("Hello Emma, I have 180 pounds") beside the result."""
    source = lookups[-1] if lookups else None
    if source is None or references_in(arguments) or not _has_content(source.result):
        return arguments
    own = {str(v) for v in leaf_values(source.arguments or {})}
    found = [v for v in leaf_values(source.result) if not isinstance(v, bool) and str(v) not in own
             and (not isinstance(v, str) or len(v) >= 3)]
    held = " ".join(str(v) for v in leaf_values(arguments))
    if any(_holds(held, v) for v in found):
        return arguments
    target = _made_up_text(tool, arguments, query)
    if target is None:
        return arguments
    text = source.result.get("text") if isinstance(source.result, dict) else None
    reference = f"${source.step.index}.text" if isinstance(text, str) else f"${source.step.index}"
    return {**arguments, target: reference}


def _has_content(result: Any) -> bool:
    """A result with something to hand on: not an empty listing ({"notes": []})."""
    lists = [n for n in _nodes(result) if isinstance(n, list)]
    return bool(list(leaf_values(result))) and (not lists or any(lists))


def _holds(text: str, value: Any) -> bool:
    """Whether `text` holds `value` (a number to two decimals: 81.65 holds 81.6466)."""
    if isinstance(value, (int, float)):
        return any(abs(n - value) <= 0.01 * max(1.0, abs(value)) for n in numbers_in(text))
    return str(value).lower() in text.lower()


_ID_PARAMETER = re.compile(r"(?:^|_)id$")
_TOOL_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _id_sources(tool: Tool, registry: ToolRegistry) -> dict[str, Tool]:
    """`tool`'s id parameters, each with the lookup its description names ("The note's id,
    as returned by search_notes or create_note" -> search_notes)."""
    out = {}
    for key, schema in ((tool.parameters or {}).get("properties") or {}).items():
        if _ID_PARAMETER.search(key) and isinstance(schema, dict):
            named = [n for n in _TOOL_NAME.findall(str(schema.get("description", ""))) if n in registry]
            lookups = [registry.get(n) for n in named if not registry.get(n).side_effect]
            if lookups:
                out[key] = lookups[0]
    return out


def _chosen_id(result: Any, key: str, query: str) -> Optional[Any]:
    """The id (`key`, or `id`) of the listed item the request means: the one sharing most
    words with it; none when several are listed and none shares a word."""
    items = next((n for n in _nodes(result) if isinstance(n, list) and n and all(isinstance(i, dict) for i in n)), [])
    said = set(words_in(query))

    def shared(item: dict) -> int:
        return len(said & {w for v in leaf_values(item) if isinstance(v, str) for w in words_in(v)})
    best = max(items, key=shared, default=None)  # the first of equals: lookups list best first
    if best is None or (len(items) > 1 and shared(best) == 0):
        return None
    return best.get(key, best.get("id"))


def _nodes(value: Any) -> Iterable[Any]:
    """The values nested in a result, outermost first."""
    queue = [value]
    while queue:
        node = queue.pop(0)
        yield node
        if isinstance(node, dict):
            queue += list(node.values())
        elif isinstance(node, list):
            queue += node


_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(?::\d{2})?")


def _all_day(tool: Tool, arguments: dict) -> dict:
    """`arguments` of a tool that makes all-day events from dates alone (a parameter's
    description says so) with each date-time cut to its date: asked for an all-day event,
    the 0.5B model still writes a time ("2026-03-22T09:00")."""
    properties = (tool.parameters or {}).get("properties") or {}
    if not any("all-day" in str(p.get("description", "")) for p in properties.values() if isinstance(p, dict)):
        return arguments
    return {k: _DATE_TIME.sub(r"\1", v) if isinstance(v, str) and _DATE_TIME.fullmatch(v) else v
            for k, v in arguments.items()}


def _repeating(tool: Tool, arguments: dict, frequency: str, count: Optional[int]) -> dict:
    """`arguments` with the repetition the request states: the parameter whose choices
    include `frequency` ("weekly") set to it, and the integer one that counts
    "occurrences" to `count`. The 0.5B model leaves the repetition out or miscounts it."""
    properties = (tool.parameters or {}).get("properties") or {}
    out = dict(arguments)
    for key, schema in properties.items():
        if not isinstance(schema, dict):
            continue
        if frequency in (schema.get("enum") or []):
            out[key] = frequency
        elif (count is not None and "occurrences" in str(schema.get("description", ""))
              and "integer" in str(schema.get("type"))):
            out[key] = count
    return out


_DATE_TIMES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[,;\s]+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)*")


def _at_stated_time(tool: Tool, arguments: dict, when: tuple[Optional[dt.date], tuple[int, int]]) -> dict:
    """`arguments` with the call's time (its first date-time parameter, in the schema's
    order: one whose description says ISO 8601) at the time its clause states
    (`request.stated_time`), on the clause's date if it states one, else on the date the
    call has; later date-times (an end) move with it. The 0.5B model takes another
    clause's time ("tomorrow at 10am and remind me at 9am": a reminder at 10), writes two
    occurrences into one value, or a reference to a result that holds no time."""
    date, (hour, minute) = when
    properties = (tool.parameters or {}).get("properties") or {}
    timed = [k for k, p in properties.items() if k in arguments and isinstance(p, dict)
             and "ISO 8601" in str(p.get("description", ""))]
    if not timed:
        return arguments
    first, value = timed[0], arguments[timed[0]]
    old = _date_time(value)
    if old is None and (date is None or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()))):
        return arguments  # no date to put the time on, or a date alone (all day)
    new = dt.datetime.combine(date or old.date(), dt.time(hour, minute))
    out = dict(arguments, **{first: new.isoformat(timespec="minutes")})
    for k in timed[1:]:
        later = _date_time(arguments[k])
        if old is not None and later is not None:
            out[k] = (later + (new - old)).isoformat(timespec="minutes")
    return out


def _date_time(value: Any) -> Optional[dt.datetime]:
    """The (first) date-time a value is written as, None if it is none or not a real one ("2026-04-31")."""
    if not isinstance(value, str) or not _DATE_TIMES.fullmatch(value.strip()):
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()[:16])
    except ValueError:
        return None


def _clauses_of(steps: list[Step], fitting: list[list[Tool]]) -> dict[int, int]:
    """Which clause each step answers (step index -> clause index): in order, the first
    clause not yet answered whose best fitting tool the step calls."""
    out: dict[int, int] = {}
    for step in steps:
        i = next((i for i, tools in enumerate(fitting)
                  if i not in out.values() and tools and tools[0].name == step.tool), None)
        if i is not None:
            out[step.index] = i
    return out


def _undated(tool: Tool, arguments: dict) -> dict:
    """A lookup's arguments without the optional dates a request that names none did not
    ask for: "When is my book club?" was looked up from today to tomorrow, and missed it."""
    properties = (tool.parameters or {}).get("properties") or {}
    required = set((tool.parameters or {}).get("required") or [])
    return {k: v for k, v in arguments.items() if k in required or not isinstance(properties.get(k), dict)
            or "ISO 8601" not in str(properties[k].get("description", ""))}


def _lookups_first(plan: Plan, by_name: dict[str, Tool], handing: set[int]) -> Plan:
    """`plan` with the lookups that come after the first acting call of `handing` (the steps
    whose clause hands a result on) moved before it, renumbered; as it is if any step refers
    to another. "When is my book club? Send the time to Emma" was planned as the message,
    then the lookup: a call cannot hand on what is not looked up yet."""
    steps = plan.steps
    first = next((k for k, s in enumerate(steps) if s.index in handing and by_name[s.tool].side_effect), None)
    if first is None or any(s.depends_on() for s in steps):
        return plan
    later = [s for s in steps[first + 1:] if not by_name[s.tool].side_effect]
    if not later:
        return plan
    order = steps[:first] + later + [s for s in steps[first:] if all(s is not x for x in later)]
    return Plan([Step(steps[0].index + k, s.tool, s.arguments) for k, s in enumerate(order)], plan.generation)


def _as_requested(tool: Tool, arguments: dict, query: str, clause: Optional[str] = None,
                  now: Optional[dt.datetime] = None) -> dict:
    """A call's arguments with what the request says of dates and repetition applied, and
    the time (`_at_stated_time`) and the length (`_lasting`) the call's clause states."""
    if not tool.side_effect and not states_a_date(query):
        arguments = _undated(tool, arguments)
    if says_all_day(query):
        arguments = _all_day(tool, arguments)
    rep = repetition(query)
    if rep:
        arguments = _repeating(tool, arguments, *rep)
    if clause is None or now is None:
        return arguments
    when = stated_time(clause, now, query)
    if when:
        arguments = _at_stated_time(tool, arguments, when)
    minutes = stated_duration(clause)
    if minutes:
        arguments = _lasting(tool, arguments, minutes)
    return _named(tool, arguments, clause)


def _named(tool: Tool, arguments: dict, clause: str) -> dict:
    """`arguments` with a text parameter the clause names with its value ("with the subject
    Dinner", "under the title Weather": the parameter's name, then a capitalised or quoted
    value) filled in when the call leaves it out. The 0.5B model drops such a detail."""
    properties = (tool.parameters or {}).get("properties") or {}
    out = dict(arguments)
    for key, schema in properties.items():
        if key in out or not _is_text(schema):
            continue
        m = re.search(rf"\bthe\s+{re.escape(key.replace('_', ' '))}\s+('[^']+'|\"[^\"]+\"|[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)",
                      clause)
        if m:
            out[key] = m.group(1).strip("'\"")
    return out


def _lasting(tool: Tool, arguments: dict, minutes: float) -> dict:
    """`arguments` of a call whose clause states how long it lasts ("for two hours") with
    that length in the tool's duration parameter (one named so, in minutes), and no end
    (its second ISO 8601 parameter), which would override it. The 0.5B model leaves the
    length out: a two-hour dinner lasted the default hour."""
    properties = (tool.parameters or {}).get("properties") or {}
    length = next((k for k, p in properties.items() if "duration" in k and isinstance(p, dict)
                   and "minute" in str(p.get("description", "")) + k), None)
    if length is None:
        return arguments
    timed = [k for k, p in properties.items() if isinstance(p, dict) and "ISO 8601" in str(p.get("description", ""))]
    out = {k: v for k, v in arguments.items() if k not in timed[1:2]}
    out[length] = int(minutes) if float(minutes).is_integer() else minutes
    return out


def _unanswered(fitting: list[list[Tool]], done: Counter) -> list[int]:
    """The clauses (their indices; `fitting[i]`: the tools that fit clause i, best first)
    whose best tool acts and that no successful call answers. A call answers one clause:
    first one whose best tool it is, else one where it is second best; a lookup answers
    none. So "a note ... and put it in my calendar" done as one event leaves the note
    unanswered, and "remind me at 8am and again on Sunday" done as one reminder, the second."""
    left = Counter(done)
    answered: set[int] = set()
    for rank in (0, 1):
        for i, tools in enumerate(fitting):
            if i not in answered and len(tools) > rank and tools[rank].side_effect and left[tools[rank].name] > 0:
                left[tools[rank].name] -= 1
                answered.add(i)
    return [i for i, tools in enumerate(fitting) if i not in answered and tools and tools[0].side_effect]


def _refuses(tool: str, refused: set[str]) -> bool:
    return bool(name_words(tool) & refused)


def _without_refused(plan: Plan, refused: set[str]) -> Plan:
    """`plan` without the calls whose action the request says not to do ("draft it but
    don't send it": no send_message; the 0.5B model likes to finish a draft by sending it)."""
    if not refused or not any(_refuses(s.tool, refused) for s in plan.steps):
        return plan
    return Plan([s for s in plan.steps if not _refuses(s.tool, refused)], plan.generation)


def _call_message(steps: list[tuple[str, dict]]) -> dict:
    return {"role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": n, "arguments": a}} for n, a in steps]}


def _next_step(turn: AssistantTurn) -> int:
    """The number of the turn's next call: plans and single calls count on from the last."""
    return 1 + max((s["step"] for p in turn.plans for s in p.get("steps", [])), default=0)


def _tried(report: ExecutionReport) -> list[StepOutcome]:
    return [o for o in report.outcomes if o.arguments is not None or o.status != "ok"]


def _result_messages(tried: list[StepOutcome], shown: Optional[Callable[[StepOutcome], Any]] = None) -> list[dict]:
    """The calls made and their results as chat messages: as they ran, or as the planning
    model sees them (`shown(outcome)` the result; the calls as written, references and all)."""
    if not tried:
        return []
    calls = [(o.step.tool, o.step.arguments if shown else o.arguments or o.step.arguments) for o in tried]
    return [_call_message(calls),
            *({"role": "tool", "content": _result_text(shown(o) if shown else o.result)} for o in tried)]


class Assistant:
    """An offline assistant: tools over `data_dir`, a model, a strategy, an optional guard."""

    def __init__(self, model: Union[str, None] = None, *, data_dir: Union[str, Path, None] = None,
                 tools: Union[ToolRegistry, Iterable[Any], None] = None, engine: Optional[Engine] = None,
                 strategy: str = "plan", guard: Any = None, confirm: Optional[ConfirmCallback] = None,
                 top_k: int = 6, max_steps: int = 6, retrieval: str = "auto",
                 clock: Optional[Callable[[], dt.datetime]] = None, on_event: Optional[EventCallback] = None,
                 answer_tokens: int = 160, n_ctx: int = 4096, n_threads: Optional[int] = None):
        if strategy not in STRATEGIES:
            raise InvalidParameterError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if not isinstance(top_k, int) or top_k < 1:
            raise InvalidParameterError(f"top_k must be a positive integer, got {top_k!r}")
        if tools is None:
            from .tools import local_tools

            if data_dir is None:
                raise InvalidParameterError("give data_dir= (the folder of the local tools) or tools=")
            tools = local_tools(data_dir, clock=clock)
        self.registry = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        self.engine = engine if engine is not None else Engine(model, n_ctx=n_ctx, n_threads=n_threads)
        self.agent = Agent(engine=self.engine)
        self.planner = Planner(self.engine, max_steps=max_steps)
        self.rag = ToolRAG(self.registry, backend=retrieval)
        self.strategy = strategy
        self.guard = guard
        self.confirm = confirm
        self.top_k = top_k
        self.max_steps = max_steps
        self.clock = clock or (lambda: dt.datetime.now().replace(second=0, microsecond=0))
        self.on_event = on_event or (lambda kind, data: None)
        self.answer_tokens = answer_tokens
        self.history: list[dict] = []  # user and assistant texts of earlier turns
        self._answering = True
        self._now = self.clock()  # the time of the turn under way

    def reset(self) -> None:
        """Forgets the conversation (and resets the guard's trace)."""
        self.history.clear()
        if self.guard is not None:
            self.guard.reset()

    # -- helpers -------------------------------------------------------------------
    def _tools_for(self, query: str) -> list[Tool]:
        chosen = self.rag.select(query, k=min(self.top_k, len(self.rag)))
        if self.guard is not None:
            verdicts = self.guard.allowed_tools([t.name for t in chosen])
            chosen = [t for t in chosen if verdicts.get(t.name) != "denied"]
        return chosen

    def _executor(self, turn: AssistantTurn) -> Executor:
        def relay(kind: str, data: dict) -> None:
            if kind == "guard":
                turn.guard.append(data)
            self.on_event(kind, data)
        return Executor(self.registry, guard=self.guard, confirm=self.confirm, on_event=relay)

    def _wants_tools(self, messages: list[dict], schemas: list[dict]) -> bool:
        """Does the model mean to call a tool? Read from its first token, unconstrained
        (a call in any shape counts); one decode step, the prompt stays cached."""
        probe = self.engine.chat(messages, tools=schemas, max_tokens=1)
        return probe.text.lstrip().startswith(CALL_STARTS)

    def _answer(self, messages: list[dict], schemas: list[dict], on_text: Optional[Callable[[str], None]],
                turn: AssistantTurn) -> str:
        """The final answer in text, streamed; tool calls are ruled out by the grammar."""
        if not self._answering:
            return ""
        turn.generations += 1
        # Prose only: after tool results small models like to echo JSON instead of answering.
        stream = self.engine.stream(messages=messages, tools=schemas or None, grammar=_PROSE,
                                    max_tokens=self.answer_tokens)
        pieces = []
        for piece in stream:
            pieces.append(piece)
            if on_text is not None:
                on_text(piece)
        return "".join(pieces).strip()

    # -- one turn --------------------------------------------------------------------
    def ask(self, query: str, *, on_text: Optional[Callable[[str], None]] = None,
            answer: bool = True) -> AssistantTurn:
        """Carries out `query`; `on_text` receives the answer as it is written. `answer=False`
        stops once the calls are done (no final text: what a benchmark of actions measures)."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidParameterError("the query must be a non-empty string")
        start = time.perf_counter()
        turn = AssistantTurn(query=query, strategy=self.strategy)
        if self.guard is not None:
            self.guard.step(guard_event("user", query))
        tools = self._tools_for(query)
        turn.tools_offered = [t.name for t in tools]
        self.on_event("tools", {"tools": turn.tools_offered})
        now = self._now = self.clock()
        messages = [{"role": "system", "content": _system_prompt(now)}, *self.history,
                    {"role": "user", "content": annotate_dates(query, now)}]
        self._answering = answer
        if not tools:
            text = self._answer(messages, [], on_text, turn)
        elif self.strategy == "plan":
            text = self._plan_turn(messages, tools, turn, on_text)
        else:
            text = self._react_turn(messages, tools, turn, on_text)
        turn.text = text
        if self.guard is not None and not turn.stopped:
            self.guard.step(guard_event("final", text))
            for v in self.guard.check_final():
                decision = {"step": None, "tool": None, "action": v.action, "rule": getattr(v, "rule", None),
                            "reason": getattr(v, "reason", None)}
                turn.guard.append(decision)
                self.on_event("guard", decision)
        self.history += [{"role": "user", "content": query}, {"role": "assistant", "content": text}]
        turn.latency_s = time.perf_counter() - start
        return turn

    def _record(self, turn: AssistantTurn, report: ExecutionReport, messages: list[dict],
                state: Optional[_PlanState] = None) -> None:
        """The calls of `report` into the turn and, with their results, into `messages`.
        In a plan turn (`state`), `messages` is what the model plans from: a stored result
        (a file, a note, a contact; not a calculation) shows there only by reference
        (`_by_reference`), as it could carry a planted instruction; the answer is written
        from `state.answering`, where it is as it is."""
        tried = _tried(report)
        turn.calls += [o.to_dict() for o in tried]
        if state is None:
            messages += _result_messages(tried)
        else:
            messages += _result_messages(tried, self._shown)
            state.add(report, self.registry)
        turn.stopped = turn.stopped or report.stopped

    def _shown(self, outcome: StepOutcome) -> Any:
        """A result as the planning model sees it: by reference if it holds stored text (a
        lookup of stored data, or a call that took an earlier result by reference)."""
        if _is_stored_lookup(outcome, self.registry) or (outcome.ok and references_in(outcome.step.arguments)):
            return _by_reference(outcome.result, f"${outcome.step.index}")
        return outcome.result

    def _plan_turn(self, messages: list[dict], tools: list[Tool], turn: AssistantTurn,
                   on_text: Optional[Callable[[str], None]]) -> str:
        schemas = [t.schema for t in tools]
        plan_messages = [dict(messages[0], content=messages[0]["content"] + "\n\n" + PLAN_INSTRUCTIONS),
                         *messages[1:]]
        turn.generations += 1
        if not self._wants_tools(plan_messages, schemas):
            return self._answer(messages, schemas, on_text, turn)
        executor = self._executor(turn)
        by_name = {t.name: t for t in tools}
        parts = clauses(turn.query)
        state = _PlanState(answering=list(messages), parts=parts, fitting=self._fitting(parts, by_name))
        self._look_up_possession(messages, tools, executor, turn, state)
        if turn.stopped:
            return STOPPED
        for attempt in range(2):  # the plan, and one re-plan after a failure
            turn.generations += 1
            try:
                # At least one call per clause of the request, on the first plan.
                min_steps = len(clauses(turn.query)) if attempt == 0 else 1
                plan = self.planner.plan(plan_messages, tools, min_steps=min_steps, first_step=_next_step(turn))
            except DecodeError as e:  # a plan cut off: nothing ran, say so
                turn.plans.append({"error": str(e)})
                break
            plan = self._plan_as_requested(_without_refused(plan, refused_actions(turn.query)), by_name, turn.query, state)
            turn.plans.append(plan.to_dict())
            self.on_event("plan", plan.to_dict())
            report = self._run_plan(plan, messages, plan_messages, tools, executor, turn, state)
            if report.stopped or not report.failed or attempt == 1:
                break
            turn.replanned = True
            failed = ", ".join(f"{o.step.tool} (call {o.step.index})" for o in report.failed)
            plan_messages.append({"role": "user", "content": (
                f"These calls did not succeed: {failed}; the tool responses say why. Write a new plan with "
                f"only the calls still needed to finish my request.")})
            self.on_event("replan", {"failed": failed})
        if not turn.stopped:
            self._cover_clauses(messages + plan_messages[len(messages):], plan_messages, tools, executor, turn,
                                state)
        if turn.stopped:
            return STOPPED
        return self._answer(state.answering, schemas, on_text, turn)

    def _fitting(self, parts: list[str], offered: dict[str, Tool]) -> list[list[Tool]]:
        """For each clause, the offered tools that fit it best (up to 3), best first."""
        return [[t for t in self.rag.select(p, k=min(3, len(self.rag))) if t.name in offered] for p in parts]

    def _plan_as_requested(self, plan: Plan, by_name: dict[str, Tool], query: str, state: _PlanState) -> Plan:
        """`plan` with its lookups before the calls that hand their results on, and with
        what the request says of dates and repetition, and what each step's clause states
        of its time and length, applied; the clause of each step is kept in
        `state.clause_of` (a step written again after a lookup gets the same)."""
        answered = _clauses_of(plan.steps, state.fitting)
        moved = _lookups_first(plan, by_name, {s.index for s in plan.steps
                                               if state.hands_on(by_name[s.tool], s.index, answered)})
        # renumbered steps answer their clauses anew
        state.clause_of.update(answered if moved is plan else _clauses_of(moved.steps, state.fitting))
        plan = moved
        return Plan([Step(s.index, s.tool, _as_requested(by_name[s.tool], s.arguments, query,
                                                         state.clause(s.index), self._now))
                     for s in plan.steps], plan.generation)

    def _look_up_possession(self, messages: list[dict], tools: list[Tool], executor: Executor,
                            turn: AssistantTurn, state: _PlanState) -> None:
        """Before the plan, a lookup of the detail the request names of someone ("Ana's phone
        number": `request.possessions`) with the offered lookup that fits it best. The
        0.5B model plans "send Ana's phone number" without a lookup and writes a number of
        its own; `_carried` then puts the named field of this result into that call. The
        planning model is not shown this call: shown one (even by reference), it copies
        "$1..." into every argument of every call. It is step 0, so the plan's own
        numbering stays as the model expects."""
        offered = {t.name for t in tools if not t.side_effect}
        phrase = next(iter(possessions(turn.query)), None)
        fitting = [t for t in self.rag.select(phrase, k=min(3, len(self.rag))) if t.name in offered] if phrase else []
        if not fitting:
            return
        turn.generations += 1
        ask = {"role": "user", "content": f"First, look up {phrase}."}
        found = self.agent.call(messages + [ask], tools=fitting[:1], mode=fitting[0].name, parallel=False,
                                now=self._now)
        if not found.calls:
            return
        plan = Plan([Step(0, found.calls[0].name, found.calls[0].arguments)])
        turn.plans.append(plan.to_dict())
        self.on_event("plan", plan.to_dict())
        self._record(turn, executor.run(plan), [], state)

    def _with_looked_up_ids(self, step: Step, conversation: list[dict], plan_messages: list[dict],
                            executor: Executor, turn: AssistantTurn, state: _PlanState) -> Step:
        """`step` with each id it makes up looked up instead: an id the request does not
        state and no result holds ("delete the note Old ideas" planned as delete_note(1))
        is taken from the lookup its parameter's description names (search_notes), asked
        of the model for this request, the item meant being the one sharing most words
        with it."""
        tool = self.registry.get(step.tool)
        facts = QueryFacts(turn.query)
        known = {str(v) for v in leaf_values(state.results)}
        arguments = dict(step.arguments)
        for key, lookup in _id_sources(tool, self.registry).items():
            value = arguments.get(key)
            if value is None or references_in(value) or facts.states(value) or str(value) in known:
                continue
            turn.generations += 1
            noun = key[:-3].replace("_", " ") if key != "id" else "item"
            ask = {"role": "user", "content": f"First, look up the {noun} my request means."}
            found = self.agent.call(conversation + [ask], tools=[lookup], mode=lookup.name, parallel=False,
                                    now=self._now)
            asked = found.calls[0].arguments if found.calls else {}
            required = set((lookup.parameters or {}).get("required") or [])
            # a search text the request does not state would miss: list them all instead
            asked = {k: v for k, v in asked.items() if k in required or not isinstance(v, str) or facts.states(v)}
            # a search text of the request's words may still find nothing ("reschedule dentist
            # appointment on Monday"): then everything is listed, and the item chosen by its words
            narrowed = {k: v for k, v in asked.items() if k in required}
            for attempt in [asked] + ([narrowed] if narrowed != asked else []):
                plan = Plan([Step(_next_step(turn), lookup.name, attempt)])
                turn.plans.append(plan.to_dict())
                self.on_event("plan", plan.to_dict())
                state.id_lookups.add(plan.steps[0].index)
                report = executor.run(plan)
                self._record(turn, report, plan_messages, state)
                conversation = conversation + plan_messages[-2:]
                chosen = _chosen_id(report.outcomes[0].result, key, turn.query) if report.outcomes[0].ok else None
                if chosen is not None:
                    break
            if chosen is not None:
                arguments[key] = chosen
        return Step(step.index, step.tool, arguments)

    def _next_part(self, part: str) -> dict:
        """The user message that asks for one clause, with the dates it names written out
        (the request's own annotation covers the whole request, far above)."""
        return {"role": "user", "content": annotate_dates(f"Next, this part of my request: \"{part}\"", self.clock())}

    def _cover_clauses(self, conversation: list[dict], plan_messages: list[dict], tools: list[Tool],
                       executor: Executor, turn: AssistantTurn, state: _PlanState) -> None:
        """One more call for each clause of the request that no successful call answers
        (`_unanswered`). The 0.5B model's plan often drops a clause ("..., and remind me on
        March 31 at 6pm"); asked for that clause alone, among the tools that fit it, it
        makes the call (as ReAct does for every clause)."""
        offered = {t.name: t for t in tools}
        refused = refused_actions(turn.query)
        parts, fitting = state.parts, state.fitting
        done = Counter(c["name"] for c in turn.calls if c["status"] == "ok")
        facts = QueryFacts(turn.query)
        for i in _unanswered(fitting, done):
            best = fitting[i][0]
            if _refuses(best.name, refused):
                continue
            # the clause names what the best tool makes ("make a note ..." -> create_note): that one
            said = set(words_in(parts[i]))
            thing = best.name.split("_")[-1]
            candidates = [best] if thing in said or thing + "s" in said else fitting[i]
            turn.generations += 1
            result = self.agent.call(conversation + [self._next_part(parts[i])], tools=candidates, mode="required",
                                     parallel=False, now=self._now)
            if not result.calls or _refuses(result.calls[0].name, refused):
                continue
            call = result.calls[0]
            arguments = _as_requested(offered[call.name], call.arguments, turn.query, parts[i], self._now)
            arguments = _carried(offered[call.name], arguments, state.carriable, turn.query)
            state.clause_of[_next_step(turn)] = i
            arguments = _passed_on(offered[call.name], arguments, state.handed_on(offered[call.name], _next_step(turn)),
                                   turn.query)
            made = {_call_key(offered[c["name"]], c["arguments"]) for c in turn.calls
                    if c["status"] == "ok" and c["name"] in offered}
            if _call_key(offered[call.name], arguments) in made:
                continue  # the clause's call repeats one made: the model did not tell them apart
            if not any(facts.states(v) for v in leaf_values(arguments) if isinstance(v, str)):
                continue  # nothing of the request in it: a record copied from a lookup's result
            plan = Plan([Step(_next_step(turn), call.name, arguments)])
            turn.plans.append(plan.to_dict())
            self.on_event("plan", plan.to_dict())
            report = executor.run(plan, results=state.results)
            self._record(turn, report, plan_messages, state)
            conversation = conversation + plan_messages[-2:]  # the call and its result
            if report.stopped:
                return

    def _run_plan(self, plan: Plan, messages: list[dict], plan_messages: list[dict], tools: list[Tool],
                  executor: Executor, turn: AssistantTurn, state: _PlanState) -> ExecutionReport:
        """Runs `plan` (its references may name the turn's earlier results), results
        recorded as `_record` says. A step after a lookup (a call without side effects)
        that takes nothing from it by reference is written again once the lookup's result
        is known: the 0.5B model plans `calculate` and then a note with its own arithmetic
        rather than "$1". After a lookup of stored data (written again, the 0.5B model
        copies the references shown into every argument: "$1.to") the step keeps the
        plan's arguments, with the field the request names carried in (`_carried`). Steps
        that refer to earlier ones keep the plan's arguments. Ids a step makes up are
        looked up (`_with_looked_up_ids`)."""
        by_name = {t.name: t for t in tools}

        def ready(step: Step, arguments: dict, planned: dict) -> Step:
            # what the model wrote, mended: fields known not to exist, the field the request
            # names of a stored result, made-up ids
            arguments = _resolvable(arguments, planned, state.results)
            arguments = _as_requested(by_name[step.tool], arguments, turn.query, state.clause(step.index), self._now)
            if not references_in(arguments):
                arguments = _carried(by_name[step.tool], arguments, state.carriable, turn.query)
                arguments = _passed_on(by_name[step.tool], arguments, state.handed_on(by_name[step.tool], step.index),
                                       turn.query)
            return self._with_looked_up_ids(Step(step.index, step.tool, arguments),
                                            messages + plan_messages[len(messages):], plan_messages, executor, turn,
                                            state)
        steps = plan.steps
        cut = next((k for k, step in enumerate(steps) if k > 0 and not step.depends_on() and
                    any(not by_name[p.tool].side_effect for p in steps[:k])), None)
        first = executor.run(Plan([ready(s, s.arguments, {}) for s in steps[:cut]], plan.generation),
                             results=state.results)
        self._record(turn, first, plan_messages, state)
        if cut is None or first.stopped:
            return first
        rest = []
        for step in steps[cut:]:
            arguments, planned = step.arguments, {}
            if not step.depends_on() and not state.stored:
                turn.generations += 1
                # the request and the results so far, without the plan instructions
                again = self.agent.call(messages + plan_messages[len(messages):], tools=[by_name[step.tool]],
                                        mode=step.tool, parallel=False, now=self._now)
                if again.calls:
                    arguments, planned = _with_results(again.calls[0].arguments, state.lookups), step.arguments
            rest.append(ready(step, arguments, planned))
        second = executor.run(Plan(rest), results=state.results)
        self._record(turn, second, plan_messages, state)
        return ExecutionReport(first.outcomes + second.outcomes, second.stopped)

    def _react_turn(self, messages: list[dict], tools: list[Tool], turn: AssistantTurn,
                    on_text: Optional[Callable[[str], None]]) -> str:
        schemas = [t.schema for t in tools]
        messages = list(messages)
        executor = self._executor(turn)
        seen: set[str] = set()
        # A request of several clauses: call i is asked for clause i ("Next, this part of my
        # request: ..."), one call per clause before the model may stop. Asked only "what
        # next?" after one call, the 0.5B model repeats it or answers in text.
        parts = clauses(turn.query)
        for i in range(self.max_steps):
            if i == 0 or i >= len(parts):
                turn.generations += 1
                if not self._wants_tools(messages, schemas):
                    break  # the model answers now
            focus = messages
            if len(parts) > 1 and i < len(parts):
                focus = messages + [self._next_part(parts[i])]
            turn.generations += 1
            result = self.agent.call(focus, tools=tools, mode="required", parallel=False, now=self._now)
            if not result.calls:
                break
            call = result.calls[0]
            if _refuses(call.name, refused_actions(turn.query)):
                break  # what the request says not to do ends the calls
            tool = next(t for t in tools if t.name == call.name)
            # call i answers clause i: it takes the time and length that clause states
            arguments = _as_requested(tool, call.arguments, turn.query, parts[i] if i < len(parts) else None,
                                      self._now)
            key = _call_key(tool, arguments)
            if key in seen:  # the same call again: small models loop; its result is already known
                break
            seen.add(key)
            plan = Plan([Step(len(seen), call.name, arguments)])
            self.on_event("plan", plan.to_dict())
            report = executor.run(plan)
            self._record(turn, report, messages)
            if report.stopped:
                return STOPPED
        return self._answer(messages, schemas, on_text, turn)
