"""System information from `psutil`: processors, memory, disk, battery."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

from edgeagent.tool import Tool, tool

from ._dates import Clock

__all__ = ["make_tools"]

_GIB = 1024 ** 3


def _gib(n: float) -> float:
    return round(n / _GIB, 2)


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The system information tool; disk figures are for the disk holding `data_dir`."""
    data_dir = Path(data_dir)

    @tool
    def system_info() -> dict:
        """Report this device's processors, memory, free disk space, battery and uptime."""
        mem = psutil.virtual_memory()
        disk = psutil.disk_usage(str(data_dir if data_dir.exists() else data_dir.anchor or "/"))
        info: dict = {
            "os": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(),
            "cpu_count": psutil.cpu_count(logical=True),
            "cpu_cores": psutil.cpu_count(logical=False),
            "memory_total_gib": _gib(mem.total),
            "memory_available_gib": _gib(mem.available),
            "memory_used_percent": mem.percent,
            "disk_total_gib": _gib(disk.total),
            "disk_free_gib": _gib(disk.free),
            "disk_used_percent": disk.percent,
            "uptime_hours": round((time.time() - psutil.boot_time()) / 3600, 1),
        }
        if hasattr(os, "getloadavg"):
            info["load_average"] = [round(x, 2) for x in os.getloadavg()]
        battery = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        info["battery"] = None if battery is None else {
            "percent": round(battery.percent, 1), "plugged_in": battery.power_plugged,
            "minutes_left": None if battery.secsleft in (psutil.POWER_TIME_UNKNOWN,
                                                         psutil.POWER_TIME_UNLIMITED)
            else battery.secsleft // 60}
        return info

    return [system_info]
