"""The assistant benchmark: multi-step tasks over the local tools, judged on the resulting state.

Each task (bench/assistant/tasks.json) is a request in a person's words; it runs on
a fresh data directory seeded by code from bench/assistant/seed.json (contacts,
files, notes, events, a draft, a reminder) with a fixed clock (Friday 2026-03-13
09:00), so dates are deterministic. Its checks look only at the state afterwards
(notes database, calendar, reminders and timers, drafts, outbox, files, contacts),
never at the assistant's text. Tasks are split into a dev and a held-out half:
the method is tuned on dev only.

Check language: {"kind": K, "where": {field+op: value}, "absent": bool, "count": n}
  kinds: note (title, body, text, tags), event (title, start, end, rrule, all_day,
  location), reminder (text, at), timer (label, minutes), outbox/draft (to, subject,
  body, text), file (path under files/, content), contact (name, email, phone).
  ops: "~" contains (all of a list), "~any" contains one of, "~d" contains the
  digits, "^" starts with, "$" ends with, "=" equals; all case-insensitive.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import shutil
import sqlite3
import statistics
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

__all__ = ["load_tasks", "load_seed", "seed_data_dir", "read_state", "check_task", "run", "validate_task",
           "CHECK_KINDS"]

DATA = Path(__file__).with_name("assistant")
CHECK_KINDS = ("note", "event", "reminder", "timer", "outbox", "draft", "file", "contact")
_OPS = ("~any", "~d", "~", "^", "$", "=")


def load_seed(path: Optional[Path] = None) -> dict:
    return json.loads((path or DATA / "seed.json").read_text(encoding="utf-8"))


def clock_of(seed: dict) -> Callable[[], dt.datetime]:
    now = dt.datetime.fromisoformat(seed["clock"])
    return lambda: now


def _split_key(key: str) -> tuple[str, str]:
    for op in _OPS:
        if key.endswith(op):
            return key[: -len(op)], op
    raise ValueError(f"check field {key!r} has no operator (one of {', '.join(_OPS)})")


def validate_task(task: Any, where: str) -> None:
    """Refuses a malformed task with a message naming it (tasks are outside input)."""
    if not isinstance(task, dict):
        raise ValueError(f"{where}: a task must be an object")
    for key in ("id", "query", "checks", "split"):
        if key not in task:
            raise ValueError(f"{where}: task has no {key!r}")
    if task["split"] not in ("dev", "heldout"):
        raise ValueError(f"{where} ({task['id']}): split must be dev or heldout")
    if not task["checks"]:
        raise ValueError(f"{where} ({task['id']}): no checks")
    for i, c in enumerate(task["checks"]):
        if c.get("kind") not in CHECK_KINDS:
            raise ValueError(f"{where} ({task['id']}) check {i}: kind must be one of {', '.join(CHECK_KINDS)}")
        for key in c.get("where", {}):
            try:
                _split_key(key)
            except ValueError as e:
                raise ValueError(f"{where} ({task['id']}) check {i}: {e}") from None


def load_tasks(path: Optional[Path] = None, *, split: Optional[str] = None) -> list[dict]:
    path = path or DATA / "tasks.json"
    tasks = json.loads(path.read_text(encoding="utf-8"))
    ids = set()
    for i, t in enumerate(tasks):
        validate_task(t, f"{path.name}[{i}]")
        if t["id"] in ids:
            raise ValueError(f"{path.name}[{i}]: duplicate task id {t['id']!r}")
        ids.add(t["id"])
    return [t for t in tasks if split in (None, "all") or t["split"] == split]


def seed_data_dir(data_dir: Path, seed: dict) -> None:
    """Fills a data directory through the local tools themselves (so its formats are theirs)."""
    from edgeagent.tools import local_tools

    reg = local_tools(data_dir, clock=clock_of(seed))
    for c in seed.get("contacts", []):
        reg.invoke("add_contact", c)
    for rel, content in seed.get("files", {}).items():
        p = Path(data_dir) / "files" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    for n in seed.get("notes", []):
        reg.invoke("create_note", n)
    for e in seed.get("events", []):
        reg.invoke("create_event", e)
    for d in seed.get("drafts", []):
        reg.invoke("draft_message", d)
    for r in seed.get("reminders", []):
        reg.invoke("create_reminder", r)


def _messages(folder: Path) -> list[dict]:
    out = []
    for p in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        with open(p, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        out.append({"to": str(msg.get("To", "")), "subject": str(msg.get("Subject", "")), "body": text,
                    "text": f"{msg.get('Subject', '')} {text}"})
    return out


def read_state(data_dir: Path) -> dict[str, list[dict]]:
    """Everything the checks may look at, read from the files (not through the tools)."""
    import icalendar

    data_dir = Path(data_dir)
    state: dict[str, list[dict]] = {k: [] for k in CHECK_KINDS}
    db = data_dir / "notes.sqlite3"
    if db.exists():
        conn = sqlite3.connect(db)
        try:
            for title, body, tags in conn.execute("SELECT title, body, tags FROM notes"):
                state["note"].append({"title": title, "body": body, "text": f"{title}\n{body}",
                                      "tags": " ".join(json.loads(tags))})
        finally:
            conn.close()
    ics = data_dir / "calendar.ics"
    if ics.exists():
        for ev in icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT"):
            start = ev["DTSTART"].dt
            end = ev["DTEND"].dt if "DTEND" in ev else start
            all_day = not isinstance(start, dt.datetime)
            state["event"].append({
                "title": str(ev.get("SUMMARY", "")), "start": start.isoformat(), "end": end.isoformat(),
                "all_day": "true" if all_day else "false", "location": str(ev.get("LOCATION", "")),
                "rrule": ev["RRULE"].to_ical().decode() if "RRULE" in ev else ""})
    rem = data_dir / "reminders.json"
    if rem.exists():
        data = json.loads(rem.read_text(encoding="utf-8"))
        state["reminder"] = [{"text": r["text"], "at": r["at"]} for r in data.get("reminders", [])]
        state["timer"] = [{"label": t.get("label", ""), "minutes": t["minutes"]} for t in data.get("timers", [])]
    state["outbox"] = _messages(data_dir / "outbox")
    state["draft"] = _messages(data_dir / "drafts")
    files = data_dir / "files"
    if files.is_dir():
        for p in sorted(files.rglob("*")):
            if p.is_file():
                state["file"].append({"path": p.relative_to(files).as_posix(),
                                      "content": p.read_text(encoding="utf-8", errors="replace")})
    from edgeagent.tools.contacts import read_contacts

    state["contact"] = [{"name": c.get("name", ""), "email": " ".join(c.get("emails", []) or [c.get("email") or ""]),
                         "phone": " ".join(c.get("phones", []) or [c.get("phone") or ""])}
                        for c in read_contacts(data_dir)]
    return state


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _matches(item: dict, where: dict) -> bool:
    for key, want in where.items():
        field, op = _split_key(key)
        have = item.get(field)
        if have is None:
            return False
        if op == "=" and isinstance(want, (int, float)) and not isinstance(want, bool):
            try:
                if abs(float(have) - float(want)) > 1e-9:
                    return False
            except (TypeError, ValueError):
                return False
            continue
        h = str(have).lower()
        wants = [str(w).lower() for w in (want if isinstance(want, list) else [want])]
        if op == "~" and not all(w in h for w in wants):
            return False
        if op == "~any" and not any(w in h for w in wants):
            return False
        if op == "~d" and not all(_digits(w) in _digits(h) for w in wants):
            return False
        if op == "^" and not h.startswith(wants[0]):
            return False
        if op == "$" and not h.endswith(wants[0]):
            return False
        if op == "=" and h != wants[0]:
            return False
    return True


def check_task(task: dict, state: dict) -> list[str]:
    """The checks of `task` that `state` fails (empty: the task succeeded)."""
    failures = []
    for c in task["checks"]:
        found = [it for it in state[c["kind"]] if _matches(it, c.get("where", {}))]
        if c.get("absent"):
            if found:
                failures.append(f"expected no {c['kind']} matching {c.get('where', {})}, found {len(found)}")
        elif "count" in c:
            if len(found) != c["count"]:
                failures.append(f"expected {c['count']} {c['kind']} matching {c['where']}, found {len(found)}")
        elif not found:
            failures.append(f"no {c['kind']} matching {c.get('where', {})}")
    return failures


def run(strategies: Iterable[str] = ("plan", "react"), *, model: Optional[str] = None, limit: Optional[int] = None,
        split: Optional[str] = None, engine: Any = None, top_k: int = 6, answer: bool = False,
        progress: Optional[Callable[[dict], None]] = None) -> dict:
    """Runs the tasks with each strategy; returns per-strategy figures and per-task rows."""
    from edgeagent import Engine
    from edgeagent.assistant import Assistant
    from edgeagent.tools import local_tools

    tasks = load_tasks(split=split)
    if limit is not None:
        tasks = tasks[:limit]
    seed = load_seed()
    clock = clock_of(seed)
    engine = engine or Engine(model)
    report: dict[str, Any] = {"model": engine.model_name, "tasks": len(tasks), "split": split or "all",
                              "clock": seed["clock"], "top_k": top_k, "answer": answer, "strategies": {}}
    for strategy in strategies:
        rows = []
        for task in tasks:
            with tempfile.TemporaryDirectory(prefix="edgeagent-bench-") as tmp:
                data_dir = Path(tmp) / "data"
                seed_data_dir(data_dir, seed)
                assistant = Assistant(engine=engine, tools=local_tools(data_dir, clock=clock), strategy=strategy,
                                      clock=clock, top_k=top_k)
                error = None
                try:
                    turn = assistant.ask(task["query"], answer=answer)
                    calls, latency, gens = turn.calls, turn.latency_s, turn.generations
                except Exception as e:  # a crash is a failed task, recorded; the run goes on
                    calls, latency, gens, error = [], 0.0, 0, f"{type(e).__name__}: {e}"
                failures = check_task(task, read_state(data_dir)) if error is None else [error]
            row = {"id": task["id"], "split": task["split"], "strategy": strategy, "success": not failures,
                   "failures": failures, "latency_s": round(latency, 3), "calls": len(calls),
                   "generations": gens, "trace": [{"name": c["name"], "arguments": c["arguments"],
                                                   "status": c["status"]} for c in calls]}
            rows.append(row)
            if progress is not None:
                progress(row)
        ok = [r for r in rows if r["success"]]
        report["strategies"][strategy] = {
            "success_rate": round(len(ok) / len(rows), 4) if rows else 0.0,
            "successes": len(ok),
            "median_latency_s": round(statistics.median(r["latency_s"] for r in rows), 3) if rows else 0.0,
            "calls_per_task": round(statistics.mean(r["calls"] for r in rows), 3) if rows else 0.0,
            "by_split": {s: round(sum(r["success"] for r in rows if r["split"] == s) /
                                  max(1, sum(1 for r in rows if r["split"] == s)), 4) for s in ("dev", "heldout")},
            "rows": rows,
        }
    return report
