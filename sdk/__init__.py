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
# The assistant part: tool retrieval, planner, executor, assistant.
from .assistant import Assistant, AssistantTurn
from .executor import Executor
from .planner import Plan, Planner, Step
from .toolrag import ToolRAG

__version__ = "0.1.0"

__all__ = ["Agent", "Assistant", "AssistantTurn", "CallResult", "Engine", "Executor", "Generation", "GenerationOptions",
           "Grammar", "Guard", "GuardEvent", "GuardViolation", "Plan", "Planner", "QuantizeResult", "Step", "Timings",
           "Tool", "ToolCall", "ToolRAG", "ToolRegistry", "Verdict", "errors", "models", "quantize", "tool",
           "__version__"]
