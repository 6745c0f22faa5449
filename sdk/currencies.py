"""Currency names and their ISO 4217 codes (data/currencies.tsv).

Users name currencies ("500 US dollars", "British Pounds"); tools take codes (USD, GBP),
and a code is as stated as the name it stands for.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional

__all__ = ["currency_code", "codes_named", "currency_words"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))  # "U.S. dollars" -> "u s dollars"


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """name key (singular and plural in -s) -> code, longest names first."""
    names: dict[str, str] = {}
    path = Path(__file__).parent / "data" / "currencies.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, spelled = line.split("\t")
        for name in spelled.split("|"):
            key = _key(name)
            names[key] = code
            if len(name) > 3:  # "US dollars"; a code has no plural
                names.setdefault(key + "s", code)
    return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))


def currency_code(text: str) -> Optional[str]:
    """The ISO 4217 code of a currency named by `text` ("Euros", "US dollar", "usd" ->
    EUR, USD, USD), or None."""
    return _names().get(_key(text))


def _named(text: str) -> dict[str, set[str]]:
    """code -> the words of its names in `text`. A longer name takes its words:
    "Canadian dollars" is no US dollar."""
    padded, named = f" {_key(text)} ", {}
    for name, code in _names().items():
        if f" {name} " in padded:
            named.setdefault(code, set()).update(name.split())
            padded = padded.replace(f" {name} ", " | ")
    return named


def codes_named(text: str) -> set[str]:
    """The codes of the currencies a text names ("from British Pounds to Japanese Yen":
    GBP, JPY)."""
    return set(_named(text))


def currency_words(text: str, codes: set[str]) -> set[str]:
    """The words with which `text` names the currencies of `codes` ("Japanese Yen" for JPY)."""
    return set().union(*(words for code, words in _named(text).items() if code in codes))
