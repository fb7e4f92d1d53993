"""No dead code: every public function, class and method of the project is used somewhere (by the project, its
tests, its benchmarks or a framework that calls it by name). A name defined once and mentioned nowhere else is
dead weight that misleads the next reader (as `encode_whole` and `Take.label` did)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Called by a framework under these names, never by our code.
FRAMEWORK_HOOKS = {"settings_customise_sources", "get_field_value"}  # pydantic-settings


def _sources() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return {name: (ROOT / name).read_text() for name in names.stdout.split() if (ROOT / name).is_file()}


def _public_definitions(source: str):
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            yield node.name
        if isinstance(node, ast.ClassDef):
            yield from (item.name for item in node.body
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_"))


def test_every_public_definition_is_used():
    sources = _sources()
    everything = "\n".join(sources.values())
    unused = [f"{path}: {name}" for path, source in sources.items() if not path.startswith(("tests/", "bench/"))
              for name in _public_definitions(source)
              if name not in FRAMEWORK_HOOKS and len(re.findall(rf"\b{re.escape(name)}\b", everything)) <= 1]
    assert not unused, "defined but never used:\n" + "\n".join(unused)
