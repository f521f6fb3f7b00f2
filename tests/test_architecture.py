"""The package's shape holds: the import-linter contracts (layers, no cycles) are kept, every
module belongs to a declared layer, and no function grows past 80 lines."""

import ast
import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "enhancer_tools"
MAX_FUNCTION_LINES = 80


def _declared_layers() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = config["importlinter:contract:layers"]["layers"]
    return {name.strip() for line in layers.split("\n") for name in re.split(r"[|:]", line) if name.strip()}


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        lint = shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency (pip install -e '.[test]')"
    proc = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_every_module_belongs_to_a_layer():
    children = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    children |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    folders_without_init = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"
                            and any(p.glob("*.py")) and not (p / "__init__.py").exists()}
    assert not folders_without_init, f"packages need an __init__.py (else setuptools leaves them out): {folders_without_init}"
    undeclared = children - _declared_layers()
    assert not undeclared, f"add {sorted(undeclared)} to a layer in .importlinter (see ARCHITECTURE.md)"


def _long_functions(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1  # from `def` (a click command's option decorators aside)
            if length > MAX_FUNCTION_LINES:
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_longer_than_80_lines(path):
    assert not list(_long_functions(path))
