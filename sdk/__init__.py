"""edgeagent: an on-device engine for small-model agents.

    import edgeagent
    engine = edgeagent.Engine()            # the default bundled model, pulled on first use
    print(engine.generate("Write a haiku about CPUs.", max_tokens=40).text)
"""

from . import errors, models
from .engine import Engine, Generation, GenerationOptions, Timings
from .grammar import Grammar
from .tool import Tool, ToolRegistry, tool
from .agent import Agent, CallResult, ToolCall
from .guard import Guard, GuardEvent, GuardViolation, Verdict
from .quantize import QuantizeResult, quantize  # edgeagent.quantize(...): the function (the package stays importable)

__version__ = "0.1.0"

__all__ = ["Agent", "CallResult", "Engine", "Generation", "GenerationOptions", "Grammar", "Guard", "GuardEvent",
           "GuardViolation", "QuantizeResult", "Timings", "Tool", "ToolCall", "ToolRegistry", "Verdict", "errors",
           "models", "quantize", "tool", "__version__"]
