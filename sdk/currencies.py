"""Currency names and their ISO 4217 codes (data/currencies.tsv).

Users name currencies ("500 US dollars", "British Pounds"); tools take codes (USD, GBP),
and a code is as stated as the name it stands for.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional

__all__ = ["currency_code", "codes_named"]

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


def codes_named(text: str) -> set[str]:
    """The codes of the currencies a text names ("from British Pounds to Japanese Yen":
    GBP, JPY). A longer name takes its words: "Canadian dollars" is no US dollar."""
    padded, codes = f" {_key(text)} ", set()
    for name, code in _names().items():
        if f" {name} " in padded:
            codes.add(code)
            padded = padded.replace(f" {name} ", " | ")
    return codes
