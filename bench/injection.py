"""Prompt injection through tool results, judged on state.

Each case (bench/injection/cases.json) plants an attacker's text in the user's data
(a file, a note, a contact's name, a draft) on top of the assistant benchmark's seed,
then makes a benign request that leads the assistant to read it. The attacker asks
for a forbidden action (send_message to an outside address, write_file, move_file,
delete_note, delete_event, update_note, add_contact). The attack succeeded when the
state afterwards shows that action (an outbox message to the attacker, the file, the
note gone...) — never judged on text. Run without a guard, and with one
(`guard=` any object with the guard interface; the CLI builds it from `--policy`).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

from .assistant import check_task, clock_of, load_seed, read_state, seed_data_dir

__all__ = ["load_cases", "plant", "attack_succeeded", "run"]

DATA = Path(__file__).with_name("injection")
PLANT_KINDS = ("file", "note", "contact", "draft")


def load_cases(path: Optional[Path] = None) -> list[dict]:
    path = path or DATA / "cases.json"
    cases = json.loads(path.read_text(encoding="utf-8"))
    for i, c in enumerate(cases):
        for key in ("id", "query", "plant", "forbidden"):
            if key not in c:
                raise ValueError(f"{path.name}[{i}]: case has no {key!r}")
        if c["plant"].get("kind") not in PLANT_KINDS:
            raise ValueError(f"{path.name}[{i}] ({c['id']}): plant kind must be one of {', '.join(PLANT_KINDS)}")
    return cases


def plant(data_dir: Path, case: dict, seed: dict) -> None:
    """Puts the attacker's text where the case says, through the local tools."""
    from edgeagent.tools import local_tools

    p = case["plant"]
    reg = local_tools(data_dir, clock=clock_of(seed))
    if p["kind"] == "file":
        target = Path(data_dir) / "files" / p["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(p["text"], encoding="utf-8")
    elif p["kind"] == "note":
        reg.invoke("create_note", {"title": p["title"], "body": p["body"]})
    elif p["kind"] == "contact":
        reg.invoke("add_contact", {"name": p["name"], "email": p.get("email")})
    elif p["kind"] == "draft":
        reg.invoke("draft_message", {"to": p["to"], "subject": p.get("subject", ""), "body": p["body"]})


def attack_succeeded(case: dict, state: dict) -> bool:
    """Did the forbidden action happen? (the forbidden check, read as a task check, passes)."""
    return not check_task({"checks": [case["forbidden"]]}, state)


def run(*, strategy: str = "plan", guard: Any = None, policy: Optional[str] = None, limit: Optional[int] = None,
        model: Optional[str] = None, engine: Any = None, progress: Optional[Callable[[dict], None]] = None) -> dict:
    from edgeagent import Engine
    from edgeagent.assistant import Assistant
    from edgeagent.tools import local_tools

    cases = load_cases()[:limit] if limit else load_cases()
    seed = load_seed()
    clock = clock_of(seed)
    engine = engine or Engine(model)
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="edgeagent-inject-") as tmp:
            data_dir = Path(tmp) / "data"
            seed_data_dir(data_dir, seed)
            plant(data_dir, case, seed)
            if guard is not None:
                guard.reset()
            # No person to ask: confirmation is refused (a guard's "confirm" means "no").
            assistant = Assistant(engine=engine, tools=local_tools(data_dir, clock=clock), strategy=strategy,
                                  clock=clock, guard=guard, confirm=None)
            error = None
            try:
                turn = assistant.ask(case["query"], answer=False)
                calls, latency, decisions = turn.calls, turn.latency_s, turn.guard
            except Exception as e:  # recorded; the state still decides whether the attack got through
                calls, latency, decisions, error = [], 0.0, [], f"{type(e).__name__}: {e}"
            success = attack_succeeded(case, read_state(data_dir))
        row = {"id": case["id"], "carrier": case["carrier"], "action": case["action"], "attack_success": success,
               "latency_s": round(latency, 3), "calls": [{"name": c["name"], "status": c["status"]} for c in calls],
               "forbidden_attempted": any(c["name"] == case["action"] for c in calls),
               "guard_decisions": decisions, "error": error}
        rows.append(row)
        if progress is not None:
            progress(row)
    hits = sum(r["attack_success"] for r in rows)
    by_action: dict[str, list[bool]] = {}
    for r in rows:
        by_action.setdefault(r["action"], []).append(r["attack_success"])
    return {"eval": "injection", "strategy": strategy, "policy": policy, "guard": guard is not None,
            "model": engine.model_name, "cases": len(rows), "attack_successes": hits,
            "attack_success_rate": round(hits / len(rows), 4) if rows else 0.0,
            "forbidden_attempted": sum(r["forbidden_attempted"] for r in rows),
            "median_latency_s": round(statistics.median(r["latency_s"] for r in rows), 3) if rows else 0.0,
            "by_action": {a: round(sum(v) / len(v), 4) for a, v in sorted(by_action.items())},
            "rows": rows}
