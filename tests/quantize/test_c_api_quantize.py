"""edgeagent_model_quantize from C (through ctypes, as an FFI embedder would)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

import edgeagent

LIB = Path(edgeagent.__file__).parent / "lib" / "libedgeagent.so"


class QuantizeParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("type", ctypes.c_char_p), ("n_threads", ctypes.c_int32)]


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(str(LIB))
    lib.edgeagent_quantize_default_params.restype = QuantizeParams
    lib.edgeagent_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    lib.edgeagent_last_error.restype = ctypes.c_char_p
    return lib


def test_defaults(lib):
    p = lib.edgeagent_quantize_default_params()
    assert p.size == ctypes.sizeof(QuantizeParams) and p.type == b"q4_k_m" and p.n_threads == 0


@pytest.mark.parametrize("qtype,message", [(b"q9_x", b"unknown quantization type 'q9_x'"),
                                           (None, b"params.type must not be NULL")])
def test_bad_type_is_a_status_and_a_message(lib, gemma_path, tmp_path, qtype, message):
    p = lib.edgeagent_quantize_default_params()
    p.type = qtype
    rc = lib.edgeagent_model_quantize(str(gemma_path).encode(), str(tmp_path / "o.gguf").encode(), ctypes.byref(p))
    assert rc == 1 and message in lib.edgeagent_last_error()
    assert not (tmp_path / "o.gguf").exists()


def test_missing_source_and_null_paths(lib, tmp_path):
    assert lib.edgeagent_model_quantize(str(tmp_path / "none.gguf").encode(), b"/tmp/x.gguf", None) == 1
    assert b"source GGUF not found" in lib.edgeagent_last_error()
    assert lib.edgeagent_model_quantize(None, None, None) == 1
    assert b"must not be NULL" in lib.edgeagent_last_error()


def test_bad_params_size_is_refused(lib, gemma_path, tmp_path):
    p = lib.edgeagent_quantize_default_params()
    p.size = 1000
    rc = lib.edgeagent_model_quantize(str(gemma_path).encode(), str(tmp_path / "o.gguf").encode(), ctypes.byref(p))
    assert rc == 1 and b"size" in lib.edgeagent_last_error()
