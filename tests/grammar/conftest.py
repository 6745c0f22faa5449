"""Grammar-engine tests: a summary of what they measured, printed at the end of the run."""

from __future__ import annotations

import grammar_walk


def pytest_terminal_summary(terminalreporter):
    if not grammar_walk.REPORT:
        return
    terminalreporter.section("grammar engine")
    for line in grammar_walk.REPORT:
        terminalreporter.write_line(line)
