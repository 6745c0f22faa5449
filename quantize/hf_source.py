"""The Hugging Face model to export: checked up front, optionally with a LoRA merged.

Checks happen before any heavy work so that a wrong input fails in a second with a
message naming it: not a model directory, no weights, no tokenizer, an architecture
neither llama.cpp's converter nor our exporters know, or a LoRA adapter made for
another base model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..errors import QuantizeInputError

__all__ = ["HFSource", "inspect_source", "check_adapter", "merge_lora"]

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")
_WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin")


@dataclass(frozen=True)
class HFSource:
    path: Path
    config: dict[str, Any]
    architecture: str

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise QuantizeInputError(f"cannot read {what} {path}: {e}") from None
    if not isinstance(value, dict):
        raise QuantizeInputError(f"{what} {path} is not a JSON object")
    return value


def inspect_source(path: Path) -> HFSource:
    """Validates a HF causal-LM directory; raises QuantizeInputError naming what is missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise QuantizeInputError(f"model directory not found: {path}")
    if not path.is_dir():
        raise QuantizeInputError(f"the source must be a Hugging Face model directory, got a file: {path}")
    if not (path / "config.json").is_file():
        raise QuantizeInputError(f"no config.json in {path}: not a Hugging Face model directory")
    config = _read_json(path / "config.json", "model config")
    archs = config.get("architectures") or []
    if not archs or not isinstance(archs, list):
        raise QuantizeInputError(f"{path / 'config.json'} names no architecture ('architectures' is missing)")
    if not any(any(path.glob(g)) for g in _WEIGHT_GLOBS):
        raise QuantizeInputError(f"no weights in {path} (expected *.safetensors or pytorch_model*.bin)")
    if not any((path / f).is_file() for f in _TOKENIZER_FILES):
        raise QuantizeInputError(f"no tokenizer in {path} (expected one of {', '.join(_TOKENIZER_FILES)}); "
                                 f"save it with tokenizer.save_pretrained()")
    return HFSource(path=path.resolve(), config=config, architecture=str(archs[0]))


def check_adapter(adapter_dir: Path, source: HFSource) -> dict[str, Any]:
    """Validates a PEFT LoRA adapter directory against the base model it will be merged
    into: a LoRA, for the same model type, whose target modules and shapes exist there."""
    adapter_dir = Path(adapter_dir).expanduser()
    if not adapter_dir.is_dir():
        raise QuantizeInputError(f"LoRA adapter directory not found: {adapter_dir}")
    cfg_path = adapter_dir / "adapter_config.json"
    if not cfg_path.is_file():
        raise QuantizeInputError(f"no adapter_config.json in {adapter_dir}: not a PEFT adapter directory")
    cfg = _read_json(cfg_path, "adapter config")
    if str(cfg.get("peft_type", "")).upper() != "LORA":
        raise QuantizeInputError(f"{cfg_path}: peft_type is {cfg.get('peft_type')!r}, only LORA adapters are supported")
    weights = [adapter_dir / n for n in ("adapter_model.safetensors", "adapter_model.bin")]
    weight_file = next((w for w in weights if w.is_file()), None)
    if weight_file is None:
        raise QuantizeInputError(f"no adapter weights in {adapter_dir} (adapter_model.safetensors)")
    _check_adapter_shapes(weight_file, source)
    return cfg


def _base_shapes(source: HFSource) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    shapes: dict[str, tuple[int, ...]] = {}
    for f in source.path.glob("*.safetensors"):
        with safe_open(str(f), "pt") as sf:
            for name in sf.keys():
                shapes[name] = tuple(sf.get_slice(name).get_shape())
    return shapes


def _check_adapter_shapes(weight_file: Path, source: HFSource) -> None:
    """Every lora_A/lora_B pair must sit on a base weight of matching shape: that is what
    makes an adapter belong to this base model (names alone are shared by a family)."""
    if weight_file.suffix != ".safetensors" or not any(source.path.glob("*.safetensors")):
        return  # .bin adapters or bases: peft's own loader reports mismatches
    from safetensors import safe_open

    base = _base_shapes(source)
    with safe_open(str(weight_file), "pt") as sf:
        names = list(sf.keys())
        for name in names:
            if ".lora_A." not in name:
                continue
            # base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight → model.layers.0.self_attn.q_proj.weight
            module = name.split(".lora_A.")[0]
            target = module.removeprefix("base_model.model.") + ".weight"
            if target not in base:
                raise QuantizeInputError(f"the LoRA adapter targets '{target}', which the base model {source.path} "
                                         f"does not have: the adapter was made for another model")
            a = tuple(sf.get_slice(name).get_shape())
            b_name = name.replace(".lora_A.", ".lora_B.")
            b = tuple(sf.get_slice(b_name).get_shape()) if b_name in names else None
            out_f, in_f = base[target][0], base[target][-1]
            if a[-1] != in_f or (b is not None and b[0] != out_f):
                raise QuantizeInputError(
                    f"the LoRA adapter's '{module}' has shape {b[0] if b else '?'}x{a[-1]}, the base model's weight "
                    f"is {out_f}x{in_f}: the adapter was made for another model")


def merge_lora(source: HFSource, adapter_dir: Path, out_dir: Path) -> HFSource:
    """Merges the LoRA into the base weights (peft) and writes a full HF directory."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_adapter(adapter_dir, source)
    base = AutoModelForCausalLM.from_pretrained(str(source.path), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(str(source.path)).save_pretrained(out_dir)
    _copy_tokenizer_extras(source.path, out_dir)
    return inspect_source(out_dir)


def _copy_tokenizer_extras(src: Path, dst: Path) -> None:
    """Files the converter reads that save_pretrained may not rewrite faithfully."""
    import shutil

    for name in ("tokenizer.model", "chat_template.jinja", "generation_config.json"):
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)


def describe(source: HFSource, adapter: Optional[Path]) -> str:
    return f"{source.architecture} from {source.path}" + (f" + LoRA {adapter}" if adapter else "")
