"""The executor on the real local tools: references, DAG order, parallel waves, failures, guard, confirm."""

from __future__ import annotations

import threading
import time

import pytest

from edgeagent import Executor, Guard, Plan, Step
from edgeagent.executor import ReferenceError_, resolve_references
from edgeagent.tool import ToolRegistry, tool


def test_references_resolve_fields_nested_results_and_text(registry):
    results = {1: {"contacts": [{"name": "Ana Lopez", "email": "ana.lopez@example.com"}]}, 2: 42}
    assert resolve_references("$1.email", results) == "ana.lopez@example.com"  # found inside the list
    assert resolve_references("$1.contacts.0.name", results) == "Ana Lopez"
    assert resolve_references("$2", results) == 42
    assert resolve_references("Total: $2 items", results) == "Total: 42 items"
    assert resolve_references({"a": ["$2"]}, results) == {"a": [42]}
    with pytest.raises(ReferenceError_, match="no field 'phone'"):
        resolve_references("$1.phone", results)
    with pytest.raises(ReferenceError_, match="step 3"):
        resolve_references("$3", results)


def test_plan_with_a_reference_runs_in_order(registry, data_dir):
    plan = Plan([Step(1, "find_contact", {"query": "Carla"}),
                 Step(2, "send_message", {"to": "$1.email", "body": "Phone: $1.phone"})])
    report = Executor(registry).run(plan)
    assert [o.status for o in report.outcomes] == ["ok", "ok"]
    assert report.outcomes[1].arguments == {"to": "carla@example.com", "body": "Phone: +1 555 0102"}
    sent = list((data_dir / "outbox").glob("*.eml"))
    assert len(sent) == 1 and "carla@example.com" in sent[0].read_text()


def test_failure_skips_dependents_but_not_independent_steps(registry):
    plan = Plan([Step(1, "read_file", {"path": "missing.txt"}),
                 Step(2, "create_note", {"title": "From file", "body": "$1.content"}),
                 Step(3, "set_timer", {"minutes": 3})])
    report = Executor(registry).run(plan)
    assert [o.status for o in report.outcomes] == ["error", "skipped", "ok"]
    assert "error" in report.outcomes[0].result
    assert len(report.failed) == 2


def test_the_optional_arguments_the_tool_rejects_are_left_out(registry, data_dir):
    plan = Plan([Step(1, "add_contact", {"name": "Zoe Quinn", "email": "zoe at home"}),
                 Step(2, "create_event", {"title": "Party", "start": "2026-03-14T20:00",
                                          "recurrence_until": "2026-03-14T23:00"}),
                 Step(3, "create_event", {"title": "", "start": "2026-03-14T20:00"}),
                 # one rejection after another: April has no 31st
                 Step(4, "create_event", {"title": "Rent", "start": "2026-04-01T09:00", "end": "2026-04-31T18:00",
                                          "recurrence": "monthly", "recurrence_count": 12,
                                          "recurrence_until": "2026-04-31T18:00"})])
    report = Executor(registry).run(plan)
    assert [o.status for o in report.outcomes] == ["ok", "ok", "error", "ok"]  # a required one is not dropped
    assert report.outcomes[0].arguments == {"name": "Zoe Quinn"}
    assert "recurrence_until" not in report.outcomes[1].arguments
    assert "title" in report.outcomes[2].result["error"]
    assert report.outcomes[3].arguments == {"title": "Rent", "start": "2026-04-01T09:00", "recurrence": "monthly",
                                            "recurrence_count": 12}
    assert [c["name"] for c in registry.invoke("find_contact", {"query": "Zoe"})["contacts"]] == ["Zoe Quinn"]


def test_invalid_arguments_after_resolution_are_an_observation_not_a_crash(registry):
    plan = Plan([Step(1, "calculate", {"expression": "2+2"}), Step(2, "set_timer", {"minutes": "$1.expression"})])
    report = Executor(registry).run(plan)
    assert report.outcomes[1].status == "error"


def test_independent_steps_run_in_parallel():
    gate = threading.Barrier(3, timeout=10)

    @tool
    def wait(n: int) -> dict:
        """Wait at the barrier.

        Args:
            n: a number.
        """
        gate.wait()  # only returns when three calls are inside at once
        return {"n": n}

    plan = Plan([Step(i, "wait", {"n": i}) for i in (1, 2, 3)])
    report = Executor(ToolRegistry([wait])).run(plan)
    assert [o.result for o in report.outcomes] == [{"n": 1}, {"n": 2}, {"n": 3}]


def deny_send_after_read(action: str = "deny") -> Guard:
    """The real guard with a one-rule policy: no send_message once a file was read."""
    return Guard.from_text(f"rule no_send_after_read: {action} call(send_message) when O call(read_file)\n"
                           f"  because \"read a file\"")


def test_guard_denial_is_a_structured_observation_and_nothing_is_sent(registry, data_dir):
    guard = deny_send_after_read()
    plan = Plan([Step(1, "read_file", {"path": "todo.txt"}),
                 Step(2, "send_message", {"to": "bob@example.com", "body": "$1.content"})])
    events = []
    report = Executor(registry, guard=guard, on_event=lambda k, d: events.append(k)).run(plan)
    assert report.outcomes[1].status == "denied"
    assert report.outcomes[1].result["rule"] == "no_send_after_read"
    assert report.outcomes[1].result["error"] == "denied by policy"
    assert not list((data_dir / "outbox").glob("*.eml"))
    assert guard.trace_length == 2  # only the call that ran, and its result
    assert "guard" in events


def test_guard_stop_ends_the_turn(registry):
    plan = Plan([Step(1, "read_file", {"path": "todo.txt"}),
                 Step(2, "send_message", {"to": "bob", "body": "$1.content"}),
                 Step(3, "set_timer", {"minutes": "$2.x"})])
    report = Executor(registry, guard=deny_send_after_read("stop")).run(plan)
    assert report.stopped
    assert [o.status for o in report.outcomes] == ["ok", "stopped", "stopped"]


def test_confirm_is_asked_before_side_effects_only(registry, data_dir):
    asked = []

    def confirm(name, arguments):
        asked.append(name)
        return name != "write_file"

    plan = Plan([Step(1, "list_files", {}), Step(2, "write_file", {"path": "x.txt", "content": "x"}),
                 Step(3, "set_timer", {"minutes": 2})])
    report = Executor(registry, confirm=confirm).run(plan)
    assert asked == ["write_file", "set_timer"]
    assert [o.status for o in report.outcomes] == ["ok", "declined", "ok"]
    assert not (data_dir / "files" / "x.txt").exists()
