"""Shared fixtures: the two real bundled models, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import run_cli

from edgeagent import Engine, models

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

QWEN = "qwen2.5-coder-0.5b-instruct-q4_k_m"
GEMMA = "gemma-3-270m-q4_k_m"


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    return models.resolve(QWEN)


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return models.resolve(GEMMA)


@pytest.fixture(scope="session")
def qwen(qwen_path) -> Engine:
    return Engine(qwen_path, n_ctx=2048, n_threads=2)


@pytest.fixture(scope="session")
def gemma(gemma_path) -> Engine:
    return Engine(gemma_path, n_ctx=1024, n_threads=2)




@pytest.fixture()
def cli():
    return run_cli
