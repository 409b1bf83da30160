"""Matching is identity logic only: what a caller may match on comes in as plain data
(`MatchScope`), so no module of `matching/` reads the access policy."""

from __future__ import annotations

import ast
from pathlib import Path

import index_service.matching

MATCHING = Path(index_service.matching.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return names


def test_matching_never_imports_access() -> None:
    offenders = {
        path.name: sorted(n for n in _imports(path) if n.startswith("index_service.access"))
        for path in MATCHING.glob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}
