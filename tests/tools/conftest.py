"""Fixtures for the local tools: a fresh data directory and a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from edgeagent.tools import local_tools

#: "Now" for every tool under test: Wednesday 2030-01-02 09:00, local time.
NOW = dt.datetime(2030, 1, 2, 9, 0)


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def tools(data_dir):
    """The full registry bound to `data_dir`, with the fixed clock."""
    return local_tools(data_dir, clock=lambda: NOW)
