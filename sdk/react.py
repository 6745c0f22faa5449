"""ReAct text as guard events: the model's "Thought: / Action: / Action Input: /
Observation: / Final Answer:" lines become custom events (thought, action,
action_input, observation, final_answer) that the shipped `react` policy judges.

    guard = Guard.from_file("react")                       # grammars/policies/react.ltl
    report = check_react(guard, model_output, user="What is 2+2?")
    report.violation   # the first Verdict that is not allow, or None
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .guard import Guard, GuardEvent, Verdict

__all__ = ["REACT_LABELS", "react_events", "check_react", "ReactReport"]

#: Label in the text -> custom event kind.
REACT_LABELS = {"Thought": "thought", "Action": "action", "Action Input": "action_input",
                "Observation": "observation", "Final Answer": "final_answer"}
_LINE = re.compile(r"^\s*(Thought|Action Input|Action|Observation|Final Answer)\s*:\s?(.*)$")


def react_events(text: str) -> list[GuardEvent]:
    """The labelled steps of ReAct text, in order. Lines without a label continue the
    previous step; text before the first label becomes a `text` event."""
    if not isinstance(text, str):
        raise TypeError("react_events takes the model's text")
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            steps.append((REACT_LABELS[m.group(1)], [m.group(2)]))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            steps.append(("text", [line]))
    return [GuardEvent.text("\n".join(body).strip()) if kind == "text"
            else GuardEvent.custom(kind, "\n".join(body).strip()) for kind, body in steps]


@dataclass
class ReactReport:
    events: list[GuardEvent]
    verdicts: list[Verdict]
    final: list[Verdict] = field(default_factory=list)  # obligations of the turn violated at its end

    @property
    def violation(self) -> Optional[Verdict]:
        for v in self.verdicts + self.final:
            if not v.allowed:
                return v
        return None

    def allowed_text(self) -> list[GuardEvent]:
        """The events up to (not including) the first one the guard refused."""
        out = []
        for e, v in zip(self.events, self.verdicts):
            if v.action in ("deny", "stop"):
                break
            out.append(e)
        return out


def check_react(guard: Guard, text: str, *, user: Optional[str] = None) -> ReactReport:
    """Judges ReAct `text` under `guard` (one new turn: reset, then the user message if
    given, then each step); every step is committed so that all violations are listed."""
    guard.reset()
    if user is not None:
        guard.step(GuardEvent.user(user))
    events = react_events(text)
    verdicts = [guard.step(e) for e in events]
    return ReactReport(events, verdicts, guard.check_final())
