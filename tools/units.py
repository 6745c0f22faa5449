"""Unit conversion with `pint` (lengths, masses, temperatures, speeds, data sizes...)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from edgeagent.errors import ToolArgumentError
from edgeagent.formats import unit_registry as _registry
from edgeagent.tool import Tool, tool

from ._dates import Clock

__all__ = ["make_tools", "convert", "rounded"]

SIGNIFICANT_DIGITS = 12   # hides float noise such as 211.99999999999991


def rounded(value: float) -> float:
    """`value` to SIGNIFICANT_DIGITS: what a calculator shows (61.2, not 61.199999999999996)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")




def _units(text: str, param: str):  # type: ignore[no-untyped-def]
    if not isinstance(text, str) or not text.strip():
        raise ToolArgumentError.about(param, "must name a unit")
    try:
        return _registry().parse_units(text.strip())
    except Exception:  # pint raises UndefinedUnitError, but also AssertionError etc. on junk
        raise ToolArgumentError.about(param, f"{text!r} is not a unit I know") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit` expressed in `to_unit`; ToolArgumentError if impossible."""
    import pint
    src, dst = _units(from_unit, "from_unit"), _units(to_unit, "to_unit")
    try:
        result = _registry().Quantity(value, src).to(dst).magnitude
    except pint.DimensionalityError:
        raise ToolArgumentError.about("to_unit", f"cannot convert {from_unit!r} ({src.dimensionality}) to "
                                                 f"{to_unit!r} ({dst.dimensionality}): they measure "
                                                 "different things") from None
    result = float(result)
    if not math.isfinite(result):
        raise ToolArgumentError.about("value", "the result is not a finite number")
    return rounded(result)


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The unit conversion tool (it needs no data)."""

    @tool
    def convert_units(value: float, from_unit: str, to_unit: str) -> dict:
        """Convert a quantity between units, e.g. 5 miles to km, 70 degF to degC, 2 GiB to MB.

        Args:
            value: The number to convert.
            from_unit: Unit of the value, e.g. "mile", "kg", "degF", "km/h", "cup".
            to_unit: Unit wanted, of the same kind.
        """
        result = convert(value, from_unit, to_unit)
        return {"value": result, "unit": to_unit,
                "text": f"{value:g} {from_unit} = {result:g} {to_unit}"}

    return [convert_units]
