"""HF directory → ONNX model directory (with KV cache) for the ONNX Runtime backend.

optimum exports the causal LM with past key/values (`text-generation-with-past`);
onnxruntime quantizes it: dynamic int8 (`quantize_dynamic`) or 4-bit weight-only
MatMulNBits. Beside the model goes `tokenizer.gguf`, a vocabulary-only GGUF written by
llama.cpp's converter: the Engine tokenizes, renders chat templates and compiles
grammars on it with the very code it uses for GGUF models.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import QuantizeError, QuantizeInputError
from .atomic import atomic_dir, scratch_dir
from .converter import convert_hf_to_gguf
from .hf_source import HFSource
from .steps import Steps

__all__ = ["ONNX_TYPES", "export_onnx", "ONNX_MODEL_FILE", "ONNX_VOCAB_FILE", "ONNX_META_FILE"]

ONNX_TYPES = ("fp32", "int8", "int4")
ONNX_MODEL_FILE = "model.onnx"
ONNX_VOCAB_FILE = "tokenizer.gguf"
ONNX_META_FILE = "edgeagent.json"


def check_type(qtype: str) -> str:
    if qtype not in ONNX_TYPES:
        raise QuantizeInputError(f"unknown ONNX quantization type '{qtype}' (supported: {', '.join(ONNX_TYPES)})")
    return qtype


def _export_fp32(source: HFSource, out: Path) -> None:
    import optimum.exporters.onnx.model_configs  # noqa: F401  (fills optimum's registry of exporters)
    from optimum.exporters.onnx import main_export
    from optimum.exporters.tasks import TasksManager

    try:  # optimum's registry is keyed by the config's model_type, as written (gemma3_text)
        tasks = TasksManager.get_supported_tasks_for_model_type(source.model_type, "onnx",
                                                                library_name="transformers")
    except KeyError:
        tasks = {}
    if "text-generation-with-past" not in tasks:
        raise QuantizeInputError(f"optimum cannot export '{source.model_type}' models to ONNX as a causal LM with "
                                 f"a KV cache")
    main_export(str(source.path), output=str(out), task="text-generation-with-past", device="cpu",
                do_validation=False, library_name="transformers")
    if not (out / ONNX_MODEL_FILE).is_file():
        raise QuantizeError(f"optimum wrote no {ONNX_MODEL_FILE} for {source.path}")


def _quantize(fp32_dir: Path, out_dir: Path, qtype: str) -> None:
    src = fp32_dir / ONNX_MODEL_FILE
    dst = out_dir / ONNX_MODEL_FILE
    if qtype == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Weights int8, activations quantized on the fly; per-channel keeps quality close.
        # reduce_range (7-bit weights): u8s8 products saturate on x86 CPUs without VNNI
        # (AVX2 only), which took top-1 agreement from 75% to 40% on such a machine.
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         use_external_data_format=True, op_types_to_quantize=["MatMul", "Gemm"])
    else:
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        model = onnx.load(str(src), load_external_data=True)
        quantizer = MatMulNBitsQuantizer(model, block_size=32, is_symmetric=True)
        quantizer.process()
        quantizer.model.save_model_to_file(str(dst), use_external_data_format=True)


def export_onnx(source: HFSource, out: Path, qtype: str, *, steps: Steps) -> Path:
    check_type(qtype)
    out = Path(out)
    with scratch_dir(out.parent) as tmp, atomic_dir(out) as staged:
        fp32 = staged if qtype == "fp32" else tmp / "fp32"
        with steps.step("export HF → ONNX fp32 (optimum)"):
            _export_fp32(source, fp32)
        if qtype != "fp32":
            with steps.step(f"quantize → ONNX {qtype} (onnxruntime)"):
                _quantize(fp32, staged, qtype)
                for f in fp32.iterdir():  # config, tokenizer, generation config
                    if f.suffix != ".onnx" and not f.name.startswith(ONNX_MODEL_FILE) and f.is_file():
                        shutil.copy2(f, staged / f.name)
        with steps.step("vocabulary → tokenizer.gguf (llama.cpp)"):
            convert_hf_to_gguf(source.path, staged / ONNX_VOCAB_FILE, vocab_only=True)
        (staged / ONNX_META_FILE).write_text(json.dumps(
            {"format": "onnx", "type": qtype, "source": str(source.path), "architecture": source.architecture,
             "model": ONNX_MODEL_FILE, "vocab": ONNX_VOCAB_FILE}, indent=2))
    return out
