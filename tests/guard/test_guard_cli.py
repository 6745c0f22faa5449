"""`edgeagent guard check|explain` and `edgeagent bench guard`, run as a user would."""

from __future__ import annotations

import json

from edgeagent.guard import shipped_policies


def test_check_prints_the_rules(cli):
    r = cli("guard", "check", str(shipped_policies()["no_exfiltration"]), "--local-tools")
    assert r.returncode == 0, r.stderr
    assert "secret_file_no_outbound" in r.stdout and "secret_content_no_outbound" in r.stdout


def test_check_json_and_a_shipped_name(cli):
    r = cli("guard", "check", "react", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [x["name"] for x in data["rules"]][0] == "action_needs_thought"
    assert data["custom_events"] == ["thought", "action", "action_input", "observation", "final_answer"]


def test_bad_policy_exits_2_with_file_line_column(cli, tmp_path):
    bad = tmp_path / "bad.ltl"
    bad.write_text("rule ok: deny user\nrule bad: deny call(set_timer, minutes < \"ten\")\n")
    r = cli("guard", "check", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip() == f"{bad}:2:42: type mismatch: '<' compares numbers, found string ten"
    assert "Traceback" not in r.stderr


def test_unknown_tool_with_a_tools_file(cli, tmp_path):
    policy = tmp_path / "p.ltl"
    policy.write_text("rule r: confirm call(delete_everything)\n")
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "function": {"name": "delete_note", "parameters": {}}}]))
    r = cli("guard", "check", str(policy), "--tools", str(tools))
    assert r.returncode == 2 and f"{policy}:1:22: unknown tool 'delete_everything'" in r.stderr
    r = cli("guard", "check", str(policy), "--local-tools")
    assert r.returncode == 2 and "unknown tool 'delete_everything' (known tools: " in r.stderr


def _trace(tmp_path, events):
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_explain_replays_a_trace(cli, tmp_path):
    trace = _trace(tmp_path, [
        {"event": "user", "text": "summarize my .env and mail it"},
        {"event": "call", "tool": "read_file", "args": {"path": "app/.env"}},
        {"event": "result", "tool": "read_file", "value": {"content": "API_KEY=abc"}},
        {"event": "call", "tool": "send_message", "args": {"to": "x@y.z", "body": "API_KEY=abc"}},
        {"event": "final", "text": "done"},
    ])
    r = cli("guard", "explain", "no_exfiltration", str(trace), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [e["action"] for e in data["events"]] == ["allow", "allow", "allow", "deny", "allow"]
    assert data["events"][3]["rule"] == "secret_file_no_outbound"
    assert data["summary"]["deny"] == 1
    r = cli("guard", "explain", "no_exfiltration", str(trace))
    assert r.returncode == 0 and "secret_file_no_outbound" in r.stdout and "1 deny" in r.stdout


def test_explain_reports_obligations_at_the_end_of_a_turn(cli, tmp_path):
    trace = _trace(tmp_path, [{"event": "user", "text": "q"}, {"event": "thought", "text": "t"},
                              {"event": "action", "text": "calculate"}])
    r = cli("guard", "explain", "react", str(trace), "--json")
    data = json.loads(r.stdout)
    assert data["events"][-1]["obligations"][0]["rule"] == "ends_with_answer"
    assert data["summary"]["obligations_violated"] == 1


def test_explain_bad_trace_line(cli, tmp_path):
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"event": "user", "text": "hi"}\n{"event": "call", "tool": 3}\n')
    r = cli("guard", "explain", "loop_guard", str(trace))
    assert r.returncode == 2 and f"{trace}:2:" in r.stderr and "Traceback" not in r.stderr
    trace.write_text('{"event": "user", "text": "hi"\n')
    r = cli("guard", "explain", "loop_guard", str(trace))
    assert r.returncode == 2 and f"{trace}:1:" in r.stderr and "not valid JSON" in r.stderr


def test_bench_guard_json(cli):
    r = cli("bench", "guard", "--rounds", "3", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["rules"] == 10 and data["tools"] == 50 and data["events"] > 100
    for key in ("step_ns", "allowed_tools_us", "python_check_step_us"):
        assert data[key]["p50"] > 0 and data[key]["p99"] >= data[key]["p50"]


def test_call_with_a_policy_switches_the_tool_off(cli, tmp_path):
    from edgeagent.tools import local_tools

    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(local_tools(tmp_path / "data", domains=["messages"]).schemas()))
    policy = tmp_path / "no_send.ltl"
    policy.write_text("rule no_send: deny call(send_message)\n")
    r = cli("call", "Send a message to ana@example.com saying hi", "--tools", str(tools), "--mode", "required",
            "--policy", str(policy), "--threads", "2")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "send_message" in data["disabled_tools"]  # besides those retrieval puts far below the best
    assert data["calls"] and all(c["name"] != "send_message" for c in data["calls"])
    policy.write_text("rule no_send: deny call(send_mesage)\n")
    r = cli("call", "hi", "--tools", str(tools), "--policy", str(policy))
    assert r.returncode == 2 and "no_send.ltl:1:25: unknown tool 'send_mesage'" in r.stderr
