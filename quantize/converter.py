"""llama.cpp's own converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py), at the
version of the runtime we link.

They ship in the llama-cpp-python source distribution (vendor/llama.cpp, with its own
gguf-py). We do not copy them into the repo: on first use pip fetches the sdist of the
pinned version into `$EDGEAGENT_HOME/tools/` and we run the scripts from there, with
that gguf-py first on the path (the converter and its gguf library move together).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Callable, Optional

from ..errors import QuantizeError, QuantizeInputError
from ..models import home

__all__ = ["LLAMA_CPP_PYTHON_VERSION", "converter_dir", "convert_hf_to_gguf", "convert_lora_to_gguf",
           "supported_architectures"]

LLAMA_CPP_PYTHON_VERSION = "0.3.36"  # the version pyproject.toml pins (checked below)


def _pinned_version() -> str:
    try:
        installed = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return LLAMA_CPP_PYTHON_VERSION
    if installed != LLAMA_CPP_PYTHON_VERSION:
        raise QuantizeError(f"llama-cpp-python {installed} is installed, edgeagent's converter needs "
                            f"{LLAMA_CPP_PYTHON_VERSION} (the runtime and the converter must match)")
    return installed


def converter_dir() -> Path:
    """vendor/llama.cpp of the pinned sdist, fetched with pip on first use."""
    version = _pinned_version()
    root = home() / "tools" / f"llama-cpp-python-{version}"
    llama_dir = root / "vendor" / "llama.cpp"
    if (llama_dir / "convert_hf_to_gguf.py").is_file() and (llama_dir / "gguf-py" / "gguf").is_dir():
        return llama_dir
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        # --no-build-isolation: pip reads the sdist's metadata with the installed
        # scikit-build-core instead of building a cmake from source in an isolated env.
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--no-build-isolation",
               "-q", f"llama-cpp-python=={version}", "-d", tmp]
        r = subprocess.run(cmd, capture_output=True, text=True)
        archives = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if r.returncode != 0 or not archives:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            raise QuantizeError(f"cannot fetch the llama-cpp-python {version} source distribution (for llama.cpp's "
                                f"converter) with pip: {last}")
        staging = Path(tmp) / "x"
        prefix = f"llama_cpp_python-{version}/"
        with tarfile.open(archives[0]) as tar:
            # Only what the converters need: the scripts, their `conversion` package,
            # gguf-py and the tokenizer check data.
            wanted = [m for m in tar.getmembers()
                      if m.name.startswith(prefix + "vendor/llama.cpp/")
                      and (m.name.count("/") <= 3 and m.name.endswith(".py")
                           or any(part in m.name for part in ("/conversion/", "/gguf-py/", "/models/templates/")))]
            tar.extractall(staging, members=wanted, filter="data")
        if root.exists():
            shutil.rmtree(root)
        os.replace(staging / f"llama_cpp_python-{version}", root)
    return llama_dir


def _env(llama_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(llama_dir / "gguf-py"), str(llama_dir), env.get("PYTHONPATH", "")])
    env["HF_HUB_OFFLINE"] = "1"  # never reach a hub: everything must be local
    env["NO_LOCAL_GGUF"] = ""
    return env


_SUPPORTED_SCRIPT = """
import json, sys
from conversion import ModelBase, ModelType
print(json.dumps(sorted(ModelBase._model_classes[ModelType.TEXT])))
"""


def supported_architectures() -> list[str]:
    """The HF `architectures` names llama.cpp's converter knows (text models)."""
    llama_dir = converter_dir()
    r = subprocess.run([sys.executable, "-c", _SUPPORTED_SCRIPT], capture_output=True, text=True,
                       env=_env(llama_dir), cwd=llama_dir)
    if r.returncode != 0:
        raise QuantizeError(f"cannot list the converter's architectures: {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout)


_TENSOR_LINE = re.compile(r"\[\s*(\d+)\s*/\s*(\d+)\s*\]")


def _run(cmd: list[str], llama_dir: Path, what: str, on_progress: Optional[Callable[[int, int], None]],
         out_dir: Optional[Path] = None) -> str:
    """Runs a converter script, reporting `[i/n]` tensor lines to `on_progress`;
    returns its log. A KeyboardInterrupt stops the child too."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(llama_dir),
                            cwd=llama_dir, bufsize=1)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = _TENSOR_LINE.search(line)
            if m and on_progress is not None:
                on_progress(int(m.group(1)), int(m.group(2)))
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    log = "".join(lines)
    if proc.returncode != 0:
        raise _converter_error(log, what, out_dir)
    return log


def _converter_error(log: str, what: str, out_dir: Optional[Path] = None) -> Exception:
    # Progress bars end with carriage returns: the message is the last line that is not one.
    tail = [ln.strip() for ln in log.replace("\r", "\n").splitlines() if ln.strip()]
    errors = [ln for ln in tail if "Error" in ln or "error" in ln or "not supported" in ln]
    last = errors[-1] if errors else (tail[-1] if tail else "no output")
    full = ("No space left on device" in log or "Errno 28" in log
            or (out_dir is not None and shutil.disk_usage(out_dir).free < 16 * 2**20))
    if full:
        from ..errors import DiskFullError
        return DiskFullError(f"no space left on the device while {what}; nothing was written")
    if "not supported" in last or "NotImplementedError" in last:
        return QuantizeInputError(f"llama.cpp's converter cannot convert this model ({what}): {last}")
    return QuantizeError(f"llama.cpp's converter failed while {what}: {last}")


def convert_hf_to_gguf(model_dir: Path, outfile: Path, *, outtype: str = "f16", vocab_only: bool = False,
                       on_progress: Optional[Callable[[int, int], None]] = None) -> Path:
    """Runs convert_hf_to_gguf.py on a HF model directory → `outfile` (written directly;
    callers use a temporary name)."""
    llama_dir = converter_dir()
    cmd = [sys.executable, str(llama_dir / "convert_hf_to_gguf.py"), str(model_dir), "--outfile", str(outfile),
           "--outtype", outtype]
    if vocab_only:
        cmd.append("--vocab-only")
    _run(cmd, llama_dir, f"converting {model_dir}", on_progress, outfile.parent)
    if not outfile.is_file():
        raise QuantizeError(f"llama.cpp's converter wrote no file for {model_dir}")
    return outfile


def convert_lora_to_gguf(adapter_dir: Path, base_dir: Path, outfile: Path, *, outtype: str = "f16",
                         on_progress: Optional[Callable[[int, int], None]] = None) -> Path:
    """Runs convert_lora_to_gguf.py: a PEFT LoRA adapter (with its local base model's
    config) → a llama.cpp GGUF adapter."""
    llama_dir = converter_dir()
    cmd = [sys.executable, str(llama_dir / "convert_lora_to_gguf.py"), str(adapter_dir), "--base", str(base_dir),
           "--outfile", str(outfile), "--outtype", outtype]
    _run(cmd, llama_dir, f"converting the adapter {adapter_dir}", on_progress, outfile.parent)
    if not outfile.is_file():
        raise QuantizeError(f"llama.cpp's converter wrote no adapter file for {adapter_dir}")
    return outfile
