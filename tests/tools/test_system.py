"""tools/system.py: psutil figures."""

from __future__ import annotations


def test_system_info(tools):
    info = tools.invoke("system_info")
    assert info["cpu_count"] >= 1
    assert 0 < info["memory_available_gib"] <= info["memory_total_gib"]
    assert 0 <= info["disk_free_gib"] <= info["disk_total_gib"]
    assert "battery" in info  # None on machines without one
    assert not tools.get("system_info").side_effect
    assert tools.get("system_info").schema["function"]["parameters"]["properties"] == {}
