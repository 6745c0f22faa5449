"""GGUF → Hugging Face model directory, by dequantizing with transformers.

The machine has no hub access, so the only real HF-format weights are the bundled
GGUFs dequantized (`from_pretrained(dir, gguf_file=...)`). transformers rebuilds a fast
tokenizer from the GGUF vocabulary, but for SentencePiece vocabularies (Gemma) it
writes the GGUF file itself as `tokenizer.model`, which no SentencePiece reader can
parse; we write a real SentencePiece model from the GGUF's token list instead, so that
llama.cpp's converter reads the vocabulary exactly as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

from .atomic import atomic_dir
from ..errors import QuantizeError

__all__ = ["hf_from_gguf"]

# GGUF token types use SentencePiece's numbering (1 normal ... 6 byte).
_SP_TYPES = {1, 2, 3, 4, 5, 6}


def _sentencepiece_model(gguf_path: Path) -> bytes:
    import gguf
    from sentencepiece import sentencepiece_model_pb2 as sp

    fields = gguf.GGUFReader(str(gguf_path)).fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    scores = fields["tokenizer.ggml.scores"].contents()
    types = fields["tokenizer.ggml.token_type"].contents()

    def token_id(key: str, default: int) -> int:
        return int(fields[key].contents()) if key in fields else default

    proto = sp.ModelProto()
    for text, score, kind in zip(tokens, scores, types):
        piece = proto.pieces.add()
        piece.piece = text
        piece.score = float(score)
        piece.type = int(kind) if int(kind) in _SP_TYPES else 1
    spec = proto.trainer_spec
    spec.model_type = sp.TrainerSpec.BPE
    spec.vocab_size = len(tokens)
    spec.byte_fallback = True
    spec.unk_id = token_id("tokenizer.ggml.unknown_token_id", 3)
    spec.bos_id = token_id("tokenizer.ggml.bos_token_id", 2)
    spec.eos_id = token_id("tokenizer.ggml.eos_token_id", 1)
    spec.pad_id = token_id("tokenizer.ggml.padding_token_id", 0)
    norm = proto.normalizer_spec
    norm.name = "identity"
    norm.add_dummy_prefix = bool(fields["tokenizer.ggml.add_space_prefix"].contents()) \
        if "tokenizer.ggml.add_space_prefix" in fields else False
    norm.remove_extra_whitespaces = False
    return proto.SerializeToString()


def hf_from_gguf(gguf_path: Union[str, os.PathLike[str]], out_dir: Union[str, os.PathLike[str]], *,
                 dtype: str = "float32") -> Path:
    """Writes a transformers model directory (config, safetensors, tokenizer, chat
    template) dequantized from `gguf_path`. Atomic: `out_dir` appears only when complete."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = Path(gguf_path).expanduser().resolve()
    if not src.is_file():
        raise QuantizeError(f"GGUF file not found: {src}")
    out = Path(out_dir)
    if out.exists():
        raise QuantizeError(f"output directory already exists: {out}")
    torch_dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}.get(dtype)
    if torch_dtype is None:
        raise QuantizeError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
    with atomic_dir(out) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
        model = AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name, dtype=torch_dtype)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        sp_file = tmp / "tokenizer.model"
        if sp_file.exists():  # a copy of the GGUF, not a SentencePiece model: write the real one
            sp_file.write_bytes(_sentencepiece_model(src))
        _keep_chat_template(src, tmp)
    return out


def _keep_chat_template(src: Path, out: Path) -> None:
    """Copies the GGUF's chat template into tokenizer_config.json when transformers dropped it."""
    import gguf

    fields = gguf.GGUFReader(str(src)).fields
    if "tokenizer.chat_template" not in fields:
        return
    template = fields["tokenizer.chat_template"].contents()
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    if not cfg.get("chat_template") and not (out / "chat_template.jinja").exists():
        cfg["chat_template"] = template
        cfg_path.write_text(json.dumps(cfg, indent=2))
