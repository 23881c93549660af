"""Reading the schema's annotations: what type a key holds, and which section it opens.

The loader (naming the keys a section allows) and the reference (walking every section) read
config/schema.py the same way, through these two functions.
"""

import types
import typing
from typing import Any


def unwrap(hint: Any) -> tuple[Any, bool]:
    """(the type without Annotated and None, whether None is allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint = typing.get_args(hint)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(hint))
            if len(args) > 1:
                return args, optional
            hint = args[0]
        else:
            return hint, optional


def section_of(hint: Any) -> tuple[Any, str]:
    """The type a key's values hold (a list's item, a mapping's value) and how a key path goes
    into it: "[]" for a list, ".<id>" for a mapping, "" otherwise."""
    inner, _ = unwrap(hint)
    origin = typing.get_origin(inner)
    if origin not in (tuple, dict):
        return inner, ""
    item, _ = unwrap(typing.get_args(inner)[-1 if origin is dict else 0])
    return item, "[]" if origin is tuple else ".<id>"
