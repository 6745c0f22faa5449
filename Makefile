# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything is installed into .venv by this file; pip's wheel cache keeps the one
# slow step (llama-cpp-python compiles llama.cpp from source, ~6.5 min) to the first run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD_REQS := "scikit-build-core>=0.11" "pybind11>=2.13" llama-cpp-python==0.3.36
DEMO_PROMPT := Write a haiku about a small language model running on a laptop.

.PHONY: demo test install models test-native test-python clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Build requirements first (we build without isolation so that CMake finds the very
# llama.cpp that llama-cpp-python installed), then edgeagent with its extras.
install: $(BIN)/python
	$(BIN)/pip install --quiet $(BUILD_REQS)
	# torch first, as the CPU wheel: the quantize extra (transformers, optimum, peft) pulls torch.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-build-isolation '.[models,test,quantize]'

models: install
	$(BIN)/edgeagent models pull  # the default model (and its BF16 prefill copy where the CPU has AVX512_BF16)
	$(BIN)/edgeagent models pull gemma-3-270m-q4_k_m

demo: install
	$(BIN)/edgeagent models pull
	$(BIN)/edgeagent run "$(DEMO_PROMPT)"

test-native: install
	ctest --test-dir $(firstword $(wildcard build/*/)) --output-on-failure

test-python: models
	$(BIN)/python -m pytest tests

test: test-native test-python

clean:
	rm -rf build $(VENV)
