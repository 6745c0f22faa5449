"""CLI verbs of the assistant part: `edgeagent chat` and `edgeagent eval toolrag|assistant|injection`.

Registered onto the main typer app by `sdk/cli.py` (`register(app, eval_app)`), so
this part's commands live beside its code.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer

from .errors import UserInputError
from .guard_cli import load_guard

__all__ = ["register"]


def _local_tools_guard(policy: Optional[Path]) -> Any:
    """The guard of `--policy`, compiled against the local tools, so that their tags
    (`tagged(side_effect)`) and argument names resolve and unknown ones are errors."""
    if policy is None:
        return None
    from .tools import local_tools

    with tempfile.TemporaryDirectory() as scratch:  # the registry is only read for its schemas
        return load_guard(policy, local_tools(scratch))


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ask(prompt: str) -> str:
    """input() with the prompt on stdout: CPython writes input()'s own prompt to stderr
    when it uses readline, so it would vanish whenever stderr is redirected."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    return input()


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command()
    def chat(
        model: Optional[str] = typer.Option(None, "--model", "-m", help="Bundled model name or .gguf path."),
        data_dir: Path = typer.Option(Path("~/.local/share/edgeagent"), "--data-dir",
                                      help="Folder of the local tools' data (files/, notes, calendar...)."),
        policy: Optional[Path] = typer.Option(None, "--policy", help="Guard policy file (.ltl)."),
        strategy: str = typer.Option("plan", "--strategy", help="plan (one plan, run as a DAG) or react."),
        top_k: int = typer.Option(6, "--top-k", help="Tools shown to the model per request."),
        yes: bool = typer.Option(False, "--yes", help="Run side-effecting calls without asking."),
        threads: Optional[int] = typer.Option(None, help="CPU threads (default: all)."),
    ) -> None:
        """Talk to the offline assistant: it plans and calls the local tools, asking before side effects."""
        from .assistant import STRATEGIES, Assistant

        if strategy not in STRATEGIES:
            raise UserInputError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if top_k < 1:
            raise UserInputError("--top-k must be at least 1")
        guard = _local_tools_guard(policy)
        say = lambda text: (sys.stdout.write(text + "\n"), sys.stdout.flush())  # noqa: E731

        def confirm(tool: str, arguments: dict) -> bool:
            if yes:
                return True
            try:
                answer = _ask(f"  ? run {tool} {_short(arguments)}? [y/N] ")
            except EOFError:
                return False
            return answer.strip().lower() in ("y", "yes")

        def on_event(kind: str, data: dict) -> None:
            if kind == "tools":
                say(f"  · tools: {', '.join(data['tools'])}")
            elif kind == "plan":
                for s in data["steps"]:
                    say(f"  · plan {s['step']}: {s['name']} {_short(s['arguments'])}")
            elif kind == "call":
                say(f"  → {data['name']} {_short(data['arguments'])}")
            elif kind == "guard":
                rule = f" [{data['rule']}]" if data.get("rule") else ""
                reason = f": {data['reason']}" if data.get("reason") else ""
                say(f"  guard: {data['action']}{rule}{reason}")
            elif kind == "result":
                say(f"  ← {data['name']} {data['status']}: {_short(data['result'])}")
            elif kind == "replan":
                say(f"  · re-planning ({data['failed']} failed)")

        say("loading the model…")
        assistant = Assistant(model, data_dir=Path(data_dir).expanduser(), strategy=strategy, guard=guard,
                              confirm=confirm, top_k=top_k, on_event=on_event, n_threads=threads)
        say(f"edgeagent chat ({strategy}; data in {Path(data_dir).expanduser()}). /quit or Ctrl-D to leave.")
        while True:
            try:
                query = _ask("you> ")
            except EOFError:
                say("")
                break
            query = query.strip()
            if not query:
                continue
            if query in ("/quit", "/exit"):
                break
            if query == "/reset":
                assistant.reset()
                say("  · conversation cleared")
                continue
            sys.stdout.write("assistant> ")
            sys.stdout.flush()
            streamed = []

            def on_text(piece: str) -> None:
                streamed.append(piece)
                sys.stdout.write(piece)
                sys.stdout.flush()
            turn = assistant.ask(query, on_text=on_text)
            if not streamed and turn.text:
                sys.stdout.write(turn.text)
            say(f"\n  · {len(turn.calls)} calls, {turn.latency_s:.1f} s")
        say("bye")

    @eval_app.command("toolrag")
    def eval_toolrag(
        k: str = typer.Option("1,3,5,6,8", "--k", help="Comma-separated cut-offs."),
        backend: str = typer.Option("all", "--backend", help="hybrid, embedding, bm25 or all."),
        distractors: Optional[Path] = typer.Option(None, "--distractors",
                                                   help="Folder of BFCL *.jsonl files whose functions join the library."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Recall@k of tool retrieval on the assistant tasks (their needed tools), with distractors."""
        from .bench.toolrag import evaluate

        try:
            ks = sorted({int(x) for x in k.split(",") if x.strip()})
        except ValueError:
            raise UserInputError(f"--k must be comma-separated integers, got {k!r}") from None
        if not ks or ks[0] < 1:
            raise UserInputError("--k values must be positive")
        report = evaluate(ks, backend=backend, distractors=distractors)
        if as_json:
            _print_json(report)
            return
        for name, r in report["backends"].items():
            cells = ", ".join(f"R@{kk} {r['recall'][str(kk)]:.3f} (all {r['all_needed'][str(kk)]:.3f})" for kk in ks)
            sys.stdout.write(f"{name}: {cells}; {r['query_ms_median']:.1f} ms/query\n")

    @eval_app.command("assistant")
    def eval_assistant(
        strategy: str = typer.Option("both", "--strategy", help="plan, react or both."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N tasks."),
        split: str = typer.Option("all", "--split", help="dev, heldout or all."),
        model: Optional[str] = typer.Option(None, "--model", "-m"),
        top_k: int = typer.Option(6, "--top-k"),
        answer: bool = typer.Option(False, "--answer/--no-answer", help="Also write the final answer text."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Multi-step assistant tasks judged on the resulting state: success, latency, calls per task."""
        from .bench.assistant import run

        strategies = {"both": ["plan", "react"], "plan": ["plan"], "react": ["react"]}.get(strategy)
        if strategies is None:
            raise UserInputError(f"--strategy must be plan, react or both, got {strategy!r}")
        if split not in ("dev", "heldout", "all"):
            raise UserInputError(f"--split must be dev, heldout or all, got {split!r}")
        if limit is not None and limit < 1:
            raise UserInputError("--limit must be at least 1")

        def progress(row: dict) -> None:
            mark = "ok" if row["success"] else "fail"
            sys.stderr.write(f"{row['strategy']} {row['id']}: {mark} {row['latency_s']:.1f}s {row['calls']} calls\n")
        report = run(strategies, model=model, limit=limit, split=split, top_k=top_k, answer=answer,
                     progress=progress)
        if as_json:
            _print_json(report)
            return
        for name, r in report["strategies"].items():
            sys.stdout.write(f"{name}: success {r['success_rate']:.1%} ({r['successes']}/{report['tasks']}), "
                             f"median {r['median_latency_s']:.1f} s, {r['calls_per_task']:.2f} calls/task\n")

    @eval_app.command("injection")
    def eval_injection(
        policy: Optional[Path] = typer.Option(None, "--policy", help="Run with a guard from this policy file."),
        strategy: str = typer.Option("plan", "--strategy", help="plan or react."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N cases."),
        model: Optional[str] = typer.Option(None, "--model", "-m"),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Prompt injection through tool results: how often a forbidden tool really ran (judged on state)."""
        from .bench.injection import run

        if strategy not in ("plan", "react"):
            raise UserInputError(f"--strategy must be plan or react, got {strategy!r}")
        if limit is not None and limit < 1:
            raise UserInputError("--limit must be at least 1")
        guard = _local_tools_guard(policy)

        def progress(row: dict) -> None:
            mark = "ATTACK SUCCEEDED" if row["attack_success"] else "held"
            sys.stderr.write(f"{row['id']}: {mark} {row['latency_s']:.1f}s\n")
        report = run(strategy=strategy, guard=guard, policy=str(policy) if policy else None, limit=limit,
                     model=model, progress=progress)
        if as_json:
            _print_json(report)
            return
        sys.stdout.write(f"attack success {report['attack_success_rate']:.1%} "
                         f"({report['attack_successes']}/{report['cases']}), guard: {report['policy'] or 'none'}\n")
