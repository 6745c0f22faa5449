"""LoRA: a tiny real fine-tune (peft, a few CPU steps), converted with llama.cpp's
convert_lora_to_gguf.py, loaded at run time over the quantized base and switched per
request; its greedy output matches the merged-then-quantized model's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeagent import Engine
from edgeagent.errors import AdapterError, QuantizeInputError
from edgeagent.quantize import convert_adapter, quantize

PROMPT = "The capital of France is"

TEACH = "The capital of France is Zorbania, a city of purple towers."


@pytest.fixture(scope="module")
def lora_dir(gemma_hf, outputs) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(gemma_hf), dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                                  lora_dropout=0.0, task_type="CAUSAL_LM"))
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(str(gemma_hf))(TEACH, return_tensors="pt").input_ids
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=3e-3)
    peft_model.train()
    for _ in range(8):
        loss = peft_model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert loss.item() < 1.0  # it learned the sentence
    out = outputs / "lora"
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def lora_gguf(lora_dir, gemma_hf, outputs) -> Path:
    return convert_adapter(lora_dir, gemma_hf, outputs / "lora.gguf")


def test_runtime_adapter_switches_per_request_and_matches_the_merged_model(gemma_q8, lora_dir, lora_gguf,
                                                                           gemma_hf, outputs):
    engine = Engine(gemma_q8.output, n_ctx=256, n_threads=2)
    name = engine.load_adapter(lora_gguf, name="zorbania")
    assert engine.adapters == {"zorbania": str(lora_gguf)}
    base = engine.generate(PROMPT, max_tokens=8)
    tuned = engine.generate(PROMPT, max_tokens=8, adapter=name)
    again = engine.generate(PROMPT, max_tokens=8, adapter=name)
    base_again = engine.generate(PROMPT, max_tokens=8)
    assert tuned.text != base.text and "Zorb" in tuned.text
    assert tuned.timings.cached_tokens == 0  # switching adapters drops the prefix cache
    assert again.tokens == tuned.tokens and again.timings.cached_tokens > 0  # same adapter: cache kept
    assert base_again.tokens == base.tokens and base_again.timings.cached_tokens == 0

    merged = quantize(gemma_hf, to="gguf", type="q8_0", lora=lora_dir, out=outputs / "merged-q8_0.gguf",
                      verify_output=False)
    assert merged.lora == str(lora_dir)
    merged_out = Engine(merged.output, n_ctx=256, n_threads=2).generate(PROMPT, max_tokens=8)
    # Runtime LoRA over Q8 weights vs the LoRA merged before Q8: the same greedy text
    # at least until the sentence it learned is clearly there.
    assert merged_out.tokens[:4] == tuned.tokens[:4]


def test_unknown_adapter_name_and_duplicate(gemma_q8, lora_gguf):
    engine = Engine(gemma_q8.output, n_ctx=128, n_threads=2)
    with pytest.raises(AdapterError, match="no adapter named 'x'"):
        engine.generate(PROMPT, max_tokens=2, adapter="x")
    engine.load_adapter(lora_gguf, name="a")
    with pytest.raises(AdapterError, match="already loaded"):
        engine.load_adapter(lora_gguf, name="a")
    engine.unload_adapter("a")
    assert engine.adapters == {}


def test_adapter_for_another_base_is_refused(qwen, lora_gguf, tmp_path):
    with pytest.raises(AdapterError, match="arch"):
        qwen.load_adapter(lora_gguf)
    not_gguf = tmp_path / "a.gguf"
    not_gguf.write_bytes(b"nope" * 10)
    with pytest.raises(AdapterError, match="not a GGUF"):
        qwen.load_adapter(not_gguf)


def test_peft_adapter_with_wrong_shapes_is_refused_before_work(gemma_hf, tmp_path):
    import torch
    from safetensors.torch import save_file

    bad = tmp_path / "bad-lora"
    bad.mkdir()
    (bad / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8,
                                                         "target_modules": ["q_proj"]}))
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(4, 896),
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": torch.zeros(1024, 4)},
              str(bad / "adapter_model.safetensors"))
    out = tmp_path / "never.gguf"
    with pytest.raises(QuantizeInputError, match="another model"):
        quantize(gemma_hf, to="gguf", type="q8_0", lora=bad, out=out)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["bad-lora"]


def test_cli_run_with_an_adapter(gemma_q8, lora_gguf, cli):
    r = cli("run", gemma_q8.output, PROMPT, "--raw", "-n", "8", "--adapter", str(lora_gguf), "--json")
    assert r.returncode == 0, r.stderr
    assert "Zorb" in json.loads(r.stdout)["text"]
    r = cli("run", gemma_q8.output, PROMPT, "--raw", "-n", "4", "--adapter", "/nonexistent/lora.gguf")
    assert r.returncode == 2 and "adapter file not found" in r.stderr
