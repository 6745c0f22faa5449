"""US cities and their states, from GeoNames (the tables in data/, CC BY 4.0).

Tool descriptions often ask for a place as "the city and state, e.g. Denver, CO", and a
user names the city alone ("restaurants in Denver"); the 0.5B model copies the city. A
state the user did not write is still stated when the city they named lies in it ("crime
in San Francisco" states California).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional

__all__ = ["state_of", "state_name", "state_code", "states_implied"]

_DATA = Path(__file__).parent / "data"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))  # "St. Louis" -> "st louis"


def _rows(name: str) -> list[list[str]]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """city key -> state code (cities of 100,000 people or more; the largest of a shared name)."""
    return {_key(name): state for name, state, _population in _rows("us_cities.tsv")}


@functools.lru_cache(maxsize=1)
def _states() -> dict[str, str]:
    """state code -> name, for the 50 states and DC."""
    return {code: name for code, name in _rows("us_states.tsv")}


@functools.lru_cache(maxsize=1)
def _state_keys() -> dict[str, str]:
    """"ca" and "california" -> "CA"."""
    return {**{code.lower(): code for code in _states()}, **{_key(n): code for code, n in _states().items()}}


def state_of(city: str) -> Optional[str]:
    """The postal code of the state a US city is in ("Chicago" -> "IL"), or None for a
    name that is no US city of 100,000 people or more."""
    return _cities().get(_key(city))


def state_name(code: str) -> str:
    """"IL" -> "Illinois"."""
    return _states()[code]


def states_implied(text: str) -> set[str]:
    """The codes of the states of the US cities `text` names ("weather in Denver" -> {"CO"})."""
    padded = f" {_key(text)} "
    return {state for city, state in _cities().items() if f" {city} " in padded}


def state_code(text: str) -> Optional[str]:
    """The postal code of a state named by name or code ("california", "CA" -> "CA")."""
    return _state_keys().get(_key(text))
