"""A safe arithmetic evaluator over Python's `ast` (never `eval`).

Only numbers, + - * / // % ** (and ^ as power, as on calculators), unary signs,
parentheses, and a whitelist of math functions and constants are allowed.
Limits on the text, the tree and the size of intermediate integers make hostile
input such as `9**9**9` fail at once instead of running for hours.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable
from pathlib import Path

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._dates import Clock
from .units import SIGNIFICANT_DIGITS, rounded

__all__ = ["make_tools", "evaluate", "MAX_EXPRESSION_CHARS", "MAX_INT_BITS"]

MAX_EXPRESSION_CHARS = 500
MAX_NODES = 400
MAX_INT_BITS = 4096          # about 1233 decimal digits
MAX_FACTORIAL = 450          # 450! still fits in MAX_INT_BITS

Number = int | float


class _Refused(Exception):
    """The expression is not allowed or cannot be computed; message says why."""


def _check_int(x: Number) -> Number:
    if isinstance(x, int) and x.bit_length() > MAX_INT_BITS:
        raise _Refused(f"a result has more than {MAX_INT_BITS} bits")
    return x


def _pow(a: Number, b: Number) -> Number:
    # Estimate the size before computing: int powers grow without bound.
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if b * math.log2(abs(a)) > MAX_INT_BITS:
            raise _Refused(f"the power {a}**{b} is too large")
    result = operator.pow(a, b)
    if isinstance(result, complex):
        raise _Refused("a negative number to a fractional power has no real result")
    return result


def _factorial(n: Number) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise _Refused("factorial needs a non-negative whole number")
    if n > MAX_FACTORIAL:
        raise _Refused(f"factorial of more than {MAX_FACTORIAL} is too large")
    return math.factorial(n)


def _round(x: Number, ndigits: int | None = None) -> Number:
    # round(10**1000, -10**9) would compute 10**(10**9): keep ndigits small.
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > 100):
        raise _Refused("round's second argument must be a whole number between -100 and 100")
    return round(x) if ndigits is None else round(x, ndigits)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


_BINOPS: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: _pow,
}
_UNARY: dict[type, Callable[[Number], Number]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs, "round": _round, "min": min, "max": max,
    "sqrt": math.sqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "exp": math.exp, "log": _log, "ln": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "degrees": math.degrees, "radians": math.radians,
    "hypot": math.hypot, "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc,
    "factorial": _factorial, "gcd": math.gcd, "lcm": math.lcm,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        if type(node.value) in (int, float):  # not bool, str, complex, None
            return _check_int(node.value)
        raise _Refused(f"{node.value!r} is not a number")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left), _eval(node.right)
        return _check_int(_BINOPS[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise _Refused(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise _Refused(f"unknown function {name!r}; available: {', '.join(sorted(_FUNCTIONS))}")
        if node.keywords:
            raise _Refused("functions take positional arguments only")
        args = [_eval(a) for a in node.args]
        return _check_int(_FUNCTIONS[node.func.id](*args))
    raise _Refused(f"{type(node).__name__} is not allowed in an arithmetic expression")


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; ToolArgumentError if refused or undefined."""
    def refuse(why: str) -> ToolArgumentError:
        return ToolArgumentError.about("expression", why)

    if not isinstance(expression, str) or not expression.strip():
        raise refuse("must be a non-empty expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise refuse(f"is longer than {MAX_EXPRESSION_CHARS} characters")
    # "2^10" means a power to a person; rewriting the text (not the tree) also
    # gives it the precedence of ** rather than that of Python's xor.
    text = (expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
            .replace("−", "-"))
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise refuse(f"{expression!r} is not a valid expression ({type(exc).__name__})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise refuse(f"has more than {MAX_NODES} parts")
    try:
        result = _eval(tree)
    except _Refused as exc:
        raise refuse(str(exc)) from None
    except ZeroDivisionError:
        raise refuse("division by zero") from None
    except OverflowError:
        raise refuse("the result is too large") from None
    except (ValueError, TypeError) as exc:  # math domain errors, wrong argument counts
        raise refuse(f"cannot be computed: {exc}") from None
    except RecursionError:
        raise refuse("is nested too deeply") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise refuse("the result is not a finite number")
    return result


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The calculator tool (it needs no data)."""

    @tool
    def calculate(expression: str) -> dict:
        """Calculate: add, subtract, multiply or divide numbers, percentages, powers, roots; an arithmetic expression, e.g. "(17.5 * 3) / 4" or "sqrt(2) * pi".

        Supports + - * / // % ** (or ^), parentheses, the constants pi, e, tau and the
        functions sqrt, cbrt, exp, log(x[, base]), ln, log10, log2, sin, cos, tan, asin,
        acos, atan, atan2, sinh, cosh, tanh, degrees, radians, hypot, floor, ceil,
        trunc, round, abs, min, max, factorial, gcd, lcm.

        Args:
            expression: The expression to compute.
        """
        result = evaluate(expression)
        if isinstance(result, float):
            result = rounded(result)
        shown = f"{result:.{SIGNIFICANT_DIGITS}g}" if isinstance(result, float) else str(result)
        # "text" reads as a sentence: a later call (a note, a file) copies it as it stands
        return {"expression": expression, "result": result, "text": f"{expression.strip()} = {shown}"}

    return [calculate]
