"""The layers of DESIGN.md hold: imports only go down (roots, doors, service, remote, engine), the doors do not
import each other, the service knows no Gradio and no HTTP, settings.py imports no project module. Checked by
import-linter's contracts in .importlinter, which must also fail on a deliberately wrong import."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "ui", "openai_api", "serverless", "studio", "backends", "wire", "inference")
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())", "--no-cache"]


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_layer_contracts_are_kept():
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


@pytest.fixture
def copy_of_tree(tmp_path) -> Path:
    """The packages and the contract, copied so that a wrong import can be added without touching the repo."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


@pytest.mark.parametrize(("module", "wrong_import", "broken"), [
    ("inference/wrong_way.py", "import studio.service", "inference.wrong_way -> studio.service"),  # engine -> service
    ("studio/wrong_way.py", "from ui import layout", "studio.wrong_way -> ui.layout"),  # service -> door
    ("openai_api/wrong_way.py", "import ui.errors", "openai_api.wrong_way -> ui.errors"),  # door -> door
    ("backends/wrong_way.py", "import studio.takes", "backends.wrong_way -> studio.takes"),  # remote -> service
    ("studio/wrong_way.py", "import gradio", "studio.wrong_way -> gradio"),  # the service knows no Gradio
])
def test_a_wrong_import_breaks_a_contract(copy_of_tree, module, wrong_import, broken):
    (copy_of_tree / module).write_text(f"{wrong_import}\n")
    run = lint(copy_of_tree)
    assert run.returncode != 0
    assert "BROKEN" in run.stdout and broken in run.stdout, run.stdout


def test_settings_imports_no_project_module():
    tree = ast.parse((ROOT / "settings.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not imported & {*PACKAGES, "app"}
