"""edgeagent: an on-device engine for small-model agents.

    import edgeagent
    engine = edgeagent.Engine()            # the default bundled model, pulled on first use
    print(engine.generate("Write a haiku about CPUs.", max_tokens=40).text)
"""

from . import errors, models
from .engine import Engine, Generation, GenerationOptions, Timings
from .grammar import Grammar
# The assistant part: tool retrieval, planner, executor, assistant.
from .assistant import Assistant, AssistantTurn
from .executor import Executor
from .planner import Plan, Planner, Step
from .toolrag import ToolRAG

__version__ = "0.1.0"

__all__ = ["Engine", "Generation", "GenerationOptions", "Grammar", "Timings", "errors", "models", "__version__",
           "Assistant", "AssistantTurn", "Executor", "Plan", "Planner", "Step", "ToolRAG"]
