"""Fixtures of the assistant part: a seeded data directory and the default model with room for plans."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edgeagent import Engine
from edgeagent.bench.assistant import clock_of, load_seed, seed_data_dir
from edgeagent.tools import local_tools


@pytest.fixture(scope="session")
def seed() -> dict:
    return load_seed()


@pytest.fixture()
def clock(seed):
    return clock_of(seed)


@pytest.fixture()
def data_dir(tmp_path: Path, seed) -> Path:
    d = tmp_path / "data"
    seed_data_dir(d, seed)
    return d


@pytest.fixture()
def registry(data_dir, clock):
    return local_tools(data_dir, clock=clock)


@pytest.fixture(scope="session")
def planner_engine(qwen_path) -> Engine:
    # Plans need the tools block, the request and the plan: more than the shared 2048.
    return Engine(qwen_path, n_ctx=4096, n_threads=2)
