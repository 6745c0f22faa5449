"""`run_cli`: the `edgeagent` CLI in a subprocess, as a user runs it (a module of its
own, not conftest, because several test folders have a conftest module)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the `edgeagent` CLI in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "edgeagent.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})
