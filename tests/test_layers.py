"""The layering holds: store < kernel < pipelines, auth < billing < policy < monitoring, web < ui < app,
and gradio only in ui/ and app.py (contracts in .importlinter, checked by import-linter)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kernel", "store", "pipelines", "auth", "billing", "policy", "monitoring", "web", "ui")


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})


def test_the_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("where", "line"), [
    ("store/probe.py", "from kernel.errors import UserError"),  # the store sits below the kernel
    ("pipelines/probe.py", "from auth.tokens import new_token"),  # siblings do not lean on each other
    ("billing/probe.py", "from policy.consents import Consents"),  # billing below policy
    ("policy/probe.py", "import gradio"),  # gradio only in ui/
    ("policy/probe.py", "from web.proxies import ProxyHeaders"),  # the HTTP edge sits above the areas it guards
    ("web/probe.py", "from monitoring.metrics import Metrics"),  # siblings do not lean on each other
])
def test_a_violation_breaks_the_check(tmp_path, where, line):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / where).write_text(f"{line}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout.upper(), result.stdout


def imported_modules(path: Path) -> set[str]:
    """Top-level names a file imports outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", "") == "TYPE_CHECKING" for node in ast.walk(block)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_single_file_modules_keep_their_place():
    """import-linter takes only packages as roots: config.py, services.py and manage.py are checked here."""
    ours = {*PACKAGES, "app", "services", "config", "manage"}
    assert not imported_modules(ROOT / "config.py") & ours  # the bottom: settings import nothing of ours
    for single in ("services.py", "manage.py", "config.py"):
        assert not imported_modules(ROOT / single) & {"gradio", "gradio_client", "ui", "app"}, single
