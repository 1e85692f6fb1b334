"""Registries found by walking a package: one module, one entry, named like its file.

Every module of the package that defines the registry's attribute (`RULE`, `READER`) is one
entry. Flag rules and published readers are found this way: a newcomer is one module, never
an edit to a list."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


def discover(package: str, attribute: str, kind: type[T]) -> list[T]:
    """The `attribute` of every module of `package`, in module order. A module without one,
    or whose entry is not named like its file, is a mistake and raises `TypeError`."""
    found: list[T] = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        entry = getattr(module, attribute, None)
        if not isinstance(entry, kind):
            raise TypeError(f"{module.__name__} defines no {attribute}")
        if entry.name != info.name:
            raise TypeError(
                f"{module.__name__} defines {attribute.lower()} {entry.name!r}: name it as its file"
            )
        found.append(entry)
    return found
