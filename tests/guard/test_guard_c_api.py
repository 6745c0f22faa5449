"""The guard through the flat C API, compiled and run the way a C embedder would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import edgeagent

PKG = Path(edgeagent.__file__).parent

C_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "edgeagent.h"

static const char* ACTIONS[] = {"allow", "confirm", "deny", "stop"};
static const char* STATES[] = {"allowed", "denied", "depends"};

int main(void) {
    edgeagent_guard* g = NULL;
    edgeagent_status st = edgeagent_guard_create("rule r: deny call(x, n < \"s\")", "bad.ltl", NULL, &g);
    printf("bad %d %s\n", (int)st, edgeagent_last_error());
    st = edgeagent_guard_create("rule r: deny call(nope)", "t.ltl", "[\"send_message\"]", &g);
    printf("unknown %d %s\n", (int)st, edgeagent_last_error());
    const char* policy =
        "rule no_exfil: deny call(send_message) when O result(read_file, content matches /API_KEY/)\n"
        "rule big: confirm call(set_timer, minutes > 60) because \"long timer\"\n"
        "rule answer: deny require F final\n";
    const char* tools = "[{\"name\": \"send_message\"}, {\"name\": \"read_file\"}, "
                        "{\"name\": \"set_timer\", \"parameters\": {\"type\": \"object\", \"properties\": "
                        "{\"minutes\": {\"type\": \"number\"}}}, \"tags\": [\"side_effect\"]}]";
    if (edgeagent_guard_create(policy, "p.ltl", tools, &g) != EDGEAGENT_OK) {
        printf("create failed %s\n", edgeagent_last_error());
        return 1;
    }
    edgeagent_guard_verdict v;
    edgeagent_guard_event user = {EDGEAGENT_GUARD_USER, NULL, NULL, "hi"};
    edgeagent_guard_event timer = {EDGEAGENT_GUARD_CALL, "set_timer", "{\"minutes\": 90}", NULL};
    edgeagent_guard_event send = {EDGEAGENT_GUARD_CALL, "send_message", "{\"to\": \"a\"}", NULL};
    edgeagent_guard_event secret = {EDGEAGENT_GUARD_RESULT, "read_file", "{\"content\": \"API_KEY=1\"}", NULL};
    edgeagent_guard_event broken = {EDGEAGENT_GUARD_CALL, "send_message", "{\"to\": ", NULL};
    edgeagent_guard_step(g, &user, NULL);
    edgeagent_guard_check(g, &timer, &v);
    printf("timer %s %s %s\n", ACTIONS[v.action], v.rule_name, v.reason);
    edgeagent_guard_check(g, &send, &v);
    printf("send %s\n", ACTIONS[v.action]);
    edgeagent_guard_step(g, &secret, &v);
    edgeagent_guard_check(g, &send, &v);
    printf("send %s %s\n", ACTIONS[v.action], v.rule_name);
    const char* names[] = {"send_message", "read_file", "set_timer"};
    edgeagent_tool_allowance states[3];
    edgeagent_guard_allowed_tools(g, names, 3, states);
    printf("tools %s %s %s\n", STATES[states[0]], STATES[states[1]], STATES[states[2]]);
    edgeagent_guard_verdict finals[4];
    int n = edgeagent_guard_check_final(g, finals, 4);
    printf("final %d %s\n", n, n > 0 ? finals[0].rule_name : "-");
    st = edgeagent_guard_check(g, &broken, &v);
    printf("broken %d\n", (int)st);
    st = edgeagent_guard_check(g, NULL, &v);
    printf("null %d\n", (int)st);
    edgeagent_guard_reset(g);
    edgeagent_guard_check(g, &send, &v);
    printf("after reset %s\n", ACTIONS[v.action]);
    edgeagent_guard_free(g);
    return 0;
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("guard_c")
    (d / "main.c").write_text(C_PROGRAM)
    exe = d / "guard_c"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", str(d / "main.c"), f"-I{PKG / 'include'}",
                    f"-L{PKG / 'lib'}", "-ledgeagent", f"-Wl,-rpath,{PKG / 'lib'}", "-o", str(exe)], check=True)
    return exe


def test_guard_from_c(program):
    r = subprocess.run([str(program)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "bad 6 bad.ltl:1:26: type mismatch: '<' compares numbers, found string s"
    assert lines[1].startswith("unknown 6 t.ltl:1:19: unknown tool 'nope'")
    assert lines[2] == "timer confirm big long timer"
    assert lines[3] == "send allow"
    assert lines[4] == "send deny no_exfil"
    assert lines[5] == "tools denied allowed allowed"
    assert lines[6] == "final 1 answer"
    assert lines[7] == "broken 1"  # malformed JSON: EDGEAGENT_ERR_INVALID_ARGUMENT
    assert lines[8] == "null 1"
    assert lines[9] == "after reset allow"
