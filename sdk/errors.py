"""The exception classes of edgeagent.

Every error raised on purpose by edgeagent derives from `EdgeAgentError`. Errors
caused by what the user gave us (a bad path, a bad schema, a bad parameter) derive
from `UserInputError`; the CLI maps those to exit code 2. The native core raises
the same classes: `edgeagent._core` translates its C++ error hierarchy into them.
"""

from __future__ import annotations

__all__ = [
    "EdgeAgentError",
    "UserInputError",
    "ModelNotFoundError",
    "ModelFileError",
    "ChecksumMismatchError",
    "ChatTemplateError",
    "ContextOverflowError",
    "InvalidParameterError",
    "GrammarError",
    "ToolDefinitionError",
    "ToolArgumentError",
    "ToolExecutionError",
    "DecodeError",
    "GuardPolicyError",
    "GuardViolation",
    "QuantizeError",
    "QuantizeInputError",
    "DiskFullError",
    "AdapterError",
]


class EdgeAgentError(Exception):
    """Base class of every error edgeagent raises on purpose."""


class UserInputError(EdgeAgentError):
    """Something the user supplied is wrong; the message says what and where."""


class ModelNotFoundError(UserInputError):
    """A model name is not in the registry and is not a path to an existing file."""


class ModelFileError(UserInputError):
    """A model file exists but cannot be used: not GGUF, truncated, corrupt, unsupported."""


class ChecksumMismatchError(ModelFileError):
    """An assembled model file does not have the sha256 its registry entry promises."""


class ChatTemplateError(UserInputError):
    """The model has no chat template, or its template failed to render these messages."""


class ContextOverflowError(UserInputError):
    """The prompt (plus what must be generated) does not fit in the context window."""


class InvalidParameterError(UserInputError):
    """An unknown parameter name, or a value outside its allowed range."""


class GrammarError(UserInputError):
    """A schema, grammar or regex that cannot be compiled (names the keyword or position)."""


class ToolDefinitionError(UserInputError):
    """A tool cannot be turned into a schema (missing hints, bad schema, duplicate name)."""


class ToolArgumentError(UserInputError):
    """Arguments given to a tool do not match its schema (or the tool refuses one)."""

    parameter: "str | None" = None  # the argument at fault, when one is

    @classmethod
    def about(cls, parameter: str, message: str) -> "ToolArgumentError":
        """The error for one argument: "argument 'end': must be after start"."""
        err = cls(f"argument {parameter!r}: {message}")
        err.parameter = parameter
        return err


class ToolExecutionError(EdgeAgentError):
    """A tool ran and failed; the message carries the tool's own reason."""


class DecodeError(EdgeAgentError):
    """The native decode loop failed (llama.cpp returned an error mid-generation)."""


class GuardPolicyError(UserInputError):
    """A guard policy that does not compile; `source`, `line`, `column` and `message` say where
    and what (str(e) is "source:line:column: message")."""

    source: str = "<policy>"
    line: int = 0
    column: int = 0
    message: str = ""


class GuardViolation(EdgeAgentError):
    """A guard refused an event (deny or stop); `verdict` is the guard's Verdict."""

    def __init__(self, verdict: object):
        self.verdict = verdict
        super().__init__(f"{getattr(verdict, 'action', '?')} by rule {getattr(verdict, 'rule', '?')}: "
                         f"{getattr(verdict, 'reason', '')}")
class QuantizeError(EdgeAgentError):
    """A step of export/quantization failed (conversion, quantization, verification)."""


class QuantizeInputError(UserInputError, QuantizeError):
    """The model to export cannot be: unsupported architecture, no tokenizer, a LoRA
    adapter made for another base model, an unknown quantization type."""


class DiskFullError(QuantizeError):
    """The disk filled up while writing an output; nothing was left behind."""


class AdapterError(UserInputError):
    """A LoRA adapter that cannot be used with this model (bad file, other base, unknown name)."""
