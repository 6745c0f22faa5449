"""tools/units.py: pint conversions."""

from __future__ import annotations

import pytest

from edgeagent.errors import ToolArgumentError


@pytest.mark.parametrize("value, src, dst, expected", [
    (5, "mile", "km", 8.04672),
    (100, "degC", "degF", 212.0),
    (1, "GiB", "MB", 1073.741824),
    (60, "mph", "km/h", 96.56064),
    (2.5, "kg", "lb", 5.51155655463),
])
def test_conversions(tools, value, src, dst, expected):
    out = tools.invoke("convert_units", {"value": value, "from_unit": src, "to_unit": dst})
    assert out["value"] == pytest.approx(expected, rel=1e-9)
    assert out["unit"] == dst


def test_errors_name_the_units(tools):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("convert_units", {"value": 1, "from_unit": "kg", "to_unit": "m"})
    assert "'kg'" in str(info.value) and "'m'" in str(info.value)
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("convert_units", {"value": 1, "from_unit": "florbs", "to_unit": "m"})
    assert info.value.parameter == "from_unit" and "florbs" in str(info.value)
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("convert_units", {"value": 1, "from_unit": "m", "to_unit": "2 +"})
    assert info.value.parameter == "to_unit"
