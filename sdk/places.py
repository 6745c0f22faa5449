"""US cities and their states, and the world's large cities and their countries, from
GeoNames (the tables in data/, CC BY 4.0).

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

__all__ = ["state_of", "state_name", "state_code", "states_implied", "world_city"]

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


@functools.lru_cache(maxsize=1)
def _world_cities() -> dict[str, tuple[str, str]]:
    """name key (the English name, or a name in Chinese, Japanese or Korean script) ->
    (English name, country), for cities outside the US (the most populous of a name)."""
    out: dict[str, tuple[str, str, int]] = {}
    for name, country, population, *other in _rows("world_cities.tsv"):
        for key in map(_key, [name, *(other[0].split(",") if other and other[0] else [])]):
            if key not in out or out[key][2] < int(population):
                out[key] = (name, country, int(population))
    return {key: (name, country) for key, (name, country, _population) in out.items()}


def world_city(name: str) -> Optional[tuple[str, str]]:
    """(English name, country) of a city outside the US of 500,000 people or more, or a
    capital, named in English or in Chinese, Japanese or Korean script ("Mumbai" ->
    ("Mumbai", "India"), "上海" -> ("Shanghai", "China")); None for any other name."""
    return _world_cities().get(_key(name))
