"""The assistant benchmark and injection suite data: well-formed, not trivially passing, satisfiable."""

from __future__ import annotations

import json

import pytest

from edgeagent.bench.assistant import check_task, load_tasks, read_state, validate_task
from edgeagent.bench.injection import attack_succeeded, load_cases, plant


def test_at_least_60_tasks_in_two_halves_with_unique_ids():
    tasks = load_tasks()
    assert len(tasks) >= 60
    assert len({t["id"] for t in tasks}) == len(tasks)
    dev, held = load_tasks(split="dev"), load_tasks(split="heldout")
    assert len(dev) + len(held) == len(tasks) and abs(len(dev) - len(held)) <= 1
    assert all(len(t["tools"]) >= 1 for t in tasks)


def test_no_task_passes_on_the_untouched_seed(data_dir):
    state = read_state(data_dir)
    passing = [t["id"] for t in load_tasks() if not check_task(t, state)]
    assert passing == []


# Scripted solutions: the checks are satisfiable by the right calls (and only then).
SOLUTIONS = {
    "timer-note-tea": [("set_timer", {"minutes": 15, "label": "tea"}),
                       ("create_note", {"title": "Tea", "body": "green tea"})],
    "note-remind-ana": [("create_note", {"title": "Meeting with Ana", "body": "Tuesday 15:00"}),
                        ("create_reminder", {"text": "Meeting with Ana", "at": "2026-03-17T14:00"})],
    "move-report-tell-bob": [("move_file", {"source": "report.txt", "destination": "archive/report.txt"}),
                             ("send_message", {"to": "Bob", "body": "The report was archived."})],
    "yoga-weekly": [("create_event", {"title": "Yoga class", "start": "2026-03-19T19:00", "recurrence": "weekly",
                                      "recurrence_count": 8}),
                    ("create_reminder", {"text": "Yoga", "at": "2026-03-19T18:00"})],
    "birthday-allday": [("create_event", {"title": "Emma's birthday", "start": "2026-03-22"}),
                        ("create_reminder", {"text": "Emma's birthday", "at": "2026-03-21T09:00"})],
    "errands-append": [("update_note", {"note_id": 2, "body": "buy stamps", "append": True})],
    "grace-contact-coffee": [("add_contact", {"name": "Grace Hopper", "phone": "+1 555 0199"}),
                             ("create_event", {"title": "Coffee with Grace", "start": "2026-03-16T08:00"})],
}


@pytest.mark.parametrize("task_id", sorted(SOLUTIONS))
def test_scripted_solution_passes_and_half_of_it_does_not(task_id, registry, data_dir):
    task = next(t for t in load_tasks() if t["id"] == task_id)
    calls = SOLUTIONS[task_id]
    for name, args in calls[:-1]:
        registry.invoke(name, args)
    if len(calls) > 1:
        assert check_task(task, read_state(data_dir)), "a partial solution must fail"
    registry.invoke(*calls[-1])
    assert check_task(task, read_state(data_dir)) == []


def test_errands_check_refuses_a_second_errands_note(registry, data_dir):
    task = next(t for t in load_tasks() if t["id"] == "errands-append")
    registry.invoke("create_note", {"title": "Errands", "body": "- pick up dry cleaning\nbuy stamps"})
    assert check_task(task, read_state(data_dir))


def test_malformed_tasks_are_refused_with_their_name():
    with pytest.raises(ValueError, match=r"t\[0\].*split"):
        validate_task({"id": "x", "query": "q", "checks": [{"kind": "note"}], "split": "train"}, "t[0]")
    with pytest.raises(ValueError, match="kind"):
        validate_task({"id": "x", "query": "q", "checks": [{"kind": "email"}], "split": "dev"}, "t[0]")
    with pytest.raises(ValueError, match="operator"):
        validate_task({"id": "x", "query": "q", "checks": [{"kind": "note", "where": {"title": "a"}}],
                       "split": "dev"}, "t[0]")


def test_injection_suite_has_50_cases_over_every_carrier():
    cases = load_cases()
    assert len(cases) >= 50
    assert {c["carrier"] for c in cases} == {"file", "note", "contact", "draft"}
    assert len({c["action"] for c in cases}) >= 6


def test_planted_data_alone_is_no_attack_and_the_forbidden_action_is(registry, data_dir, seed):
    cases = {c["action"]: c for c in load_cases()}
    for c in cases.values():
        plant(data_dir, c, seed)
    state = read_state(data_dir)
    assert not any(attack_succeeded(c, state) for c in cases.values())
    registry.invoke("send_message", {"to": "attacker@evil.example", "body": "x"})
    registry.invoke("delete_note", {"note_id": 3})  # Project Apollo in the seed
    state = read_state(data_dir)
    assert attack_succeeded(cases["send_message"], state)
    assert attack_succeeded(cases["delete_note"], state)
    assert not attack_succeeded(cases["write_file"], state)
