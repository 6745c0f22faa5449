"""The quantization report: a rich table for the terminal and a size-vs-quality PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from rich.table import Table

__all__ = ["quality_table", "steps_table", "plot_reports"]


def _mb(n: Any) -> str:
    return f"{n / 2**20:.1f}" if isinstance(n, (int, float)) else "-"


def _fc(v: Mapping[str, Any]) -> str:
    fc = v.get("function_calling") or {}
    if "accuracy" in fc:
        return f"{fc['passed']}/{fc['items']}"
    return "n/a" if fc.get("skipped") else "-"  # the JSON report says why


def quality_table(reports: Iterable[Mapping[str, Any]]) -> Table:
    table = Table("output", "type", "MB", "ppl (source)", "top-1", "KL", "BFCL", "load s", "tok/s",
                  title="quantization quality vs the source model")
    for r in reports:
        v = r.get("verification")
        if not v:
            table.add_row(Path(r["output"]).name, r["type"], _mb(r.get("size_bytes")), *["-"] * 6)
            continue
        table.add_row(Path(r["output"]).name, f"{r['format']} {r['type']}", _mb(v["size_bytes"]),
                      f"{v['perplexity']:.2f} ({v['source_perplexity']:.2f})", f"{v['top1_agreement']:.1%}",
                      f"{v['kl_divergence']:.4f}", _fc(v), f"{v['load_s']:.2f}", f"{v['decode_tok_s']:.1f}")
    return table


def steps_table(report: Mapping[str, Any]) -> Table:
    table = Table("step", "seconds", "peak RSS MB", title="steps")
    for s in report.get("steps", []):
        table.add_row(s["name"], f"{s['seconds']:.1f}", f"{s['peak_rss_mb']:.0f}")
    return table


def plot_reports(reports: Iterable[Mapping[str, Any]], path: Path) -> Path:
    """Size (MB) against top-1 agreement and KL, one point per verified output."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a device or in CI
    import matplotlib.pyplot as plt

    rows = [r for r in reports if r.get("verification")]
    if not rows:
        from ..errors import QuantizeInputError
        raise QuantizeInputError("--plot needs verification results (drop --no-verify)")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        v = r["verification"]
        size = v["size_bytes"] / 2**20
        label = f"{r['format']} {r['type']}"
        ax1.scatter(size, v["top1_agreement"] * 100)
        ax1.annotate(label, (size, v["top1_agreement"] * 100), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax2.scatter(size, v["kl_divergence"])
        ax2.annotate(label, (size, v["kl_divergence"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    src = rows[0]["verification"]["source_size_bytes"] / 2**20
    for ax in (ax1, ax2):
        ax.axvline(src, linestyle="--", color="grey", linewidth=0.8)
        ax.set_xlabel("size (MB); dashed: source")
        ax.grid(alpha=0.3)
    ax1.set_ylabel("top-1 agreement with source (%)")
    ax2.set_ylabel("KL(source ‖ exported), nats/token")
    fig.suptitle(f"quantization of {Path(rows[0]['source']).name}: size vs quality")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
