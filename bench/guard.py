"""`edgeagent bench guard`: how fast the guard monitor judges events.

A 10-rule policy over the real local tools (past-time rules with counters, regexes,
path prefixes, same_call, and two future obligations) runs over a replayed agent
trace. The native timings come from the core (edgeagent._core.time_guard: each step
timed on its own, clock overhead included); the Python figure is check + step through
the binding, what an executor pays per call.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from edgeagent import _core
from edgeagent.guard import Guard, GuardEvent

TARGET_STEP_P50_NS = 1000.0
TARGET_ALLOWED_TOOLS_P50_US = 20.0

POLICY = r"""
# 10 rules, the kinds the example policies use
event thought, action, observation;
tag write = {write_file, move_file}
rule secret_read_no_send: deny call(send_message) when O result(read_file, content matches /API_KEY|BEGIN [A-Z ]*PRIVATE KEY/)
rule secret_read_no_write: deny call(tagged(write)) when O result(read_file, content matches /password|secret/)
rule confirm_delete: confirm call({delete_note, delete_event, delete_reminder})
rule confirm_send: confirm call(send_message)
rule at_most_3_messages: deny call(send_message) when count(call(send_message)) since user > 3
rule loop_guard: deny call(*) when count(same_call) since (call(*) & !same_call) >= 2
rule stay_in_files: deny call(tagged(write), path under "private")
rule big_timer: confirm call(set_timer, minutes > 120)
rule action_after_thought: deny action when !Y thought
rule answer_the_user: deny require F final
"""


def _events() -> list[GuardEvent]:
    turn = [
        GuardEvent.user("Summarize notes.txt and email it to Ana"),
        GuardEvent.custom("thought", "I should read the file"),
        GuardEvent.custom("action", "read_file"),
        GuardEvent.call("read_file", {"path": "notes.txt"}),
        GuardEvent.result("read_file", {"path": "notes.txt", "content": "Meeting at 10. Budget draft attached."}),
        GuardEvent.call("search_notes", {"query": "budget"}),
        GuardEvent.result("search_notes", {"notes": [{"id": 3, "title": "Budget"}]}),
        GuardEvent.call("draft_message", {"to": "ana@example.com", "body": "Summary: meeting at 10."}),
        GuardEvent.result("draft_message", {"draft_id": "d1"}),
        GuardEvent.call("send_message", {"draft_id": "d1"}),
        GuardEvent.result("send_message", {"sent": True}),
        GuardEvent.call("write_file", {"path": "summaries/notes.md", "content": "Meeting at 10."}),
        GuardEvent.result("write_file", {"path": "summaries/notes.md", "bytes": 15}),
        GuardEvent.call("set_timer", {"minutes": 5, "label": "tea"}),
        GuardEvent.result("set_timer", {"id": "t1"}),
        GuardEvent.text("Done: summary sent and saved."),
        GuardEvent.final("Done."),
    ]
    return turn * 12  # 204 events, 12 turns


def _tool_names() -> list[str]:
    from edgeagent.tools import local_tools

    with tempfile.TemporaryDirectory(prefix="edgeagent-bench-") as d:
        names = local_tools(d).names()
    # 50 names: the local tools plus registered-elsewhere names (MCP-style) the policy never mentions
    return names + [f"ext_tool_{i:02d}" for i in range(50 - len(names))]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_guard_bench(rounds: int = 200) -> dict[str, Any]:
    from edgeagent.tools import local_tools

    with tempfile.TemporaryDirectory(prefix="edgeagent-bench-") as d:
        registry = local_tools(d)
    guard = Guard.from_text(POLICY, registry, source="bench/guard.py")
    events = _events()
    tools = _tool_names()
    step_ns, allowed_ns = _core.time_guard(guard._policy, [e._native() for e in events], tools, rounds)

    # Through Python: what an executor pays per event (check, then step).
    py_us = []
    guard.reset()
    for _ in range(max(1, rounds // 20)):
        guard.reset()
        for e in events:
            t0 = time.perf_counter()
            guard.check(e)
            guard.step(e)
            py_us.append((time.perf_counter() - t0) * 1e6)

    s50, s99 = _pct(step_ns, 0.5), _pct(step_ns, 0.99)
    a50, a99 = _pct(allowed_ns, 0.5) / 1000, _pct(allowed_ns, 0.99) / 1000
    return {
        "bench": "guard",
        "rules": len(guard.rules),
        "events": len(events),
        "rounds": rounds,
        "tools": len(tools),
        "step_ns": {"p50": round(s50, 1), "p99": round(s99, 1), "mean": round(statistics.fmean(step_ns), 1),
                    "target_p50": TARGET_STEP_P50_NS, "meets_target": s50 <= TARGET_STEP_P50_NS},
        "allowed_tools_us": {"p50": round(a50, 2), "p99": round(a99, 2), "target_p50": TARGET_ALLOWED_TOOLS_P50_US,
                             "meets_target": a50 <= TARGET_ALLOWED_TOOLS_P50_US},
        "python_check_step_us": {"p50": round(_pct(py_us, 0.5), 2), "p99": round(_pct(py_us, 0.99), 2)},
        "note": "native timings per call with steady_clock (overhead ~20-40 ns included)",
    }
