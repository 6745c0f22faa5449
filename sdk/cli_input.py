"""The JSON files the command line is given (`--tools`, `--messages`), read with errors
that name the option and the file."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UserInputError

__all__ = ["read_json_list"]


def read_json_list(path: Path, option: str, what: str) -> list:
    """The JSON list in `path`, given as `option`; `what` names its items in the error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UserInputError(f"cannot read {option} {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UserInputError(f"{option} {path} is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise UserInputError(f"{option} {path} is not valid JSON (line {e.lineno}, column {e.colno}): "
                             f"{e.msg}") from None
    if not isinstance(data, list):
        raise UserInputError(f"{option} {path} must hold a JSON list of {what}")
    return data
