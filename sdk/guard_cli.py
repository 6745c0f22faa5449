"""`edgeagent guard ...`: validate a policy, replay a trace under it.

    edgeagent guard check policy.ltl [--tools tools.json | --local-tools]
    edgeagent guard explain policy.ltl trace.jsonl [--json]

A policy error prints `file:line:col: message` on stderr and exits 2.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from .cli_input import read_json_list
from .errors import GuardPolicyError, InvalidParameterError, UserInputError

guard_app = typer.Typer(help="Behaviour guards: validate policies, replay traces.", no_args_is_help=True)

_out = Console()
_err = Console(stderr=True)


def _tools(tools_file: Optional[Path], local: bool) -> Any:
    if tools_file is not None and local:
        raise UserInputError("give --tools or --local-tools, not both")
    if local:
        from .tools import local_tools

        with tempfile.TemporaryDirectory(prefix="edgeagent-guard-") as d:
            return list(local_tools(d))
    if tools_file is None:
        return None
    return read_json_list(tools_file, "--tools", "tools (OpenAI dicts or names)")


def load_guard(policy: Optional[Path], tools: Any = None) -> Any:
    """The guard of a `--policy` option: a policy file or a shipped policy's name. A file
    that cannot be read is an error naming the option; a policy that does not compile is a
    GuardPolicyError naming file, line and column. With `tools`, unknown tools and
    arguments in the policy are errors too."""
    if policy is None:
        return None
    from .guard import Guard

    try:
        return Guard.from_file(str(policy), tools)
    except GuardPolicyError:
        raise
    except UserInputError as e:
        raise UserInputError(f"--policy: {e}") from None


def _load(policy: Path, tools: Any):
    from .guard import Guard

    try:
        return Guard.from_file(policy, tools)
    except GuardPolicyError as e:
        # compiler style, one line: file:line:col: message
        sys.stderr.write(f"{e}\n")
        raise typer.Exit(2) from None


@guard_app.command("check")
def guard_check(
    policy: Path = typer.Argument(..., help="The policy file (.ltl)."),
    tools_file: Optional[Path] = typer.Option(None, "--tools", help="JSON list of tools (OpenAI dicts, optional "
                                                                     "\"tags\") or tool names to check against."),
    local_tools: bool = typer.Option(False, "--local-tools", help="Check against edgeagent's own local tools."),
    as_json: bool = typer.Option(False, "--json", help="Print the rules as JSON."),
) -> None:
    """Validate POLICY and print its rules."""
    guard = _load(policy, _tools(tools_file, local_tools))
    if as_json:
        sys.stdout.write(json.dumps({"policy": str(policy), "rules": guard.rules,
                                     "custom_events": guard.custom_events}, indent=2) + "\n")
        return
    table = Table("rule", "action", "kind", "line", "text", title=f"{policy}: {len(guard.rules)} rules, ok")
    for r in guard.rules:
        table.add_row(r["name"], r["action"], "require" if r["obligation"] else "when", str(r["line"]), r["text"])
    _out.print(table)


def _read_trace(path: Path) -> list:
    from .guard import GuardEvent

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UserInputError(f"cannot read trace {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UserInputError(f"trace {path} is not UTF-8 text") from None
    events = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append(GuardEvent.from_dict(json.loads(line)))
        except json.JSONDecodeError as e:
            raise UserInputError(f"{path}:{n}:{e.colno}: not valid JSON: {e.msg}") from None
        except InvalidParameterError as e:
            raise UserInputError(f"{path}:{n}: {e}") from None
    return events


def _summary(event) -> str:
    d = event.to_dict()
    kind = d.pop("event")
    body = json.dumps(d, ensure_ascii=False)
    return f"{kind} {body if len(body) <= 70 else body[:67] + '...'}"


@guard_app.command("explain")
def guard_explain(
    policy: Path = typer.Argument(..., help="The policy file (.ltl)."),
    trace: Path = typer.Argument(..., help="JSON lines, one event each: {\"event\": \"call\", \"tool\": ..., "
                                           "\"args\": {...}}, {\"event\": \"result\", \"tool\": ..., \"value\": ...},"
                                           " {\"event\": \"user\"|\"text\"|\"final\"|<custom>, \"text\": ...}."),
    tools_file: Optional[Path] = typer.Option(None, "--tools", help="JSON list of tools to check the policy against."),
    local_tools: bool = typer.Option(False, "--local-tools", help="Check against edgeagent's own local tools."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
) -> None:
    """Replay TRACE under POLICY: the verdict of each event (as it came), and the turn's
    obligations after each final event and at the end."""
    guard = _load(policy, _tools(tools_file, local_tools))
    events = _read_trace(trace)
    rows: list[dict] = []
    for i, event in enumerate(events):
        v = guard.step(event)
        row = {"index": i, "event": event.to_dict(), "action": v.action, "rule": v.rule, "reason": v.reason}
        if event.kind == "final" or i == len(events) - 1:
            row["obligations"] = [{"action": f.action, "rule": f.rule, "reason": f.reason}
                                  for f in guard.check_final()]
        rows.append(row)
    counts = {a: sum(1 for r in rows if r["action"] == a) for a in ("allow", "confirm", "deny", "stop")}
    violated = sum(len(r.get("obligations", [])) for r in rows)
    if as_json:
        sys.stdout.write(json.dumps({"policy": str(policy), "trace": str(trace), "events": rows,
                                     "summary": {**counts, "obligations_violated": violated}},
                                    indent=2, ensure_ascii=False) + "\n")
        return
    table = Table("#", "event", "verdict", "rule", "reason", title=f"{trace} under {policy}")
    style = {"allow": "green", "confirm": "yellow", "deny": "red", "stop": "bold red"}
    for r in rows:
        table.add_row(str(r["index"]), _summary(events[r["index"]]), f"[{style[r['action']]}]{r['action']}[/]",
                      r["rule"] or "", r["reason"])
        for f in r.get("obligations", []):
            table.add_row("", "(end of turn)", f"[{style[f['action']]}]{f['action']}[/]", f["rule"], f["reason"])
    _out.print(table)
    _out.print(", ".join(f"{n} {a}" for a, n in counts.items()) + f"; {violated} obligation(s) violated")
