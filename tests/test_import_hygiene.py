"""Layering: `--help` imports nothing heavy; nothing outside plugintop/ui imports Textual; clients
never import the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "plugintop"


def test_cli_import_is_light() -> None:
    code = (
        "import sys, plugintop.cli; print(sorted(m for m in ('textual','httpx','msgspec','rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_ui_imports_textual() -> None:
    for path in PKG.rglob("*.py"):
        if "ui" in path.relative_to(PKG).parts:
            continue
        bad = {n for n in _imports(path) if n == "textual" or n.startswith("textual.")}
        assert not bad, f"{path} imports {bad}"


def test_layers_point_one_way() -> None:
    lower = {
        "queries": {"plugintop.clients", "plugintop.ui", "plugintop.triage", "plugintop.analysis", "httpx"},
        "clients": {"plugintop.ui", "plugintop.triage", "plugintop.analysis", "plugintop.report"},
        "models": {"plugintop.clients", "plugintop.ui", "httpx"},
        "analysis": {"plugintop.clients", "plugintop.ui", "httpx", "plugintop.triage"},
    }
    for layer, forbidden in lower.items():
        for path in (PKG / layer).rglob("*.py"):
            for name in _imports(path):
                assert not any(name == f or name.startswith(f + ".") for f in forbidden), f"{path} imports {name}"
