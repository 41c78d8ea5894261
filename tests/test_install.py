"""The grammars live at the project's top level and travel inside the installed package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import REPO

PROBE = textwrap.dedent("""
    import sys
    from importlib import resources
    import hiergraph
    from hiergraph.parser import parse
    packaged = resources.files("hiergraph").joinpath("grammars", "bugs.lark")
    assert packaged.is_file(), "grammar missing from the installed package"
    assert parse("model { y ~ dnorm(0, 1) }").model
    print(hiergraph.__file__)
""")


def _probe(cwd, env=None) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_grammar_is_found_in_an_installed_layout(tmp_path):
    """A wheel's layout (hiergraph/grammars/ inside the package), away from the checkout."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "hiergraph", site / "hiergraph",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "grammars", site / "hiergraph" / "grammars")
    location = _probe(tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert location.startswith(str(site))


def test_the_installed_package_has_its_grammars(tmp_path):
    """Whatever `import hiergraph` finds outside the checkout (in CI: the non-editable install)."""
    location = subprocess.run([sys.executable, "-c", "import hiergraph; print(hiergraph.__file__)"],
                              cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    if not location or Path(location).parent == REPO / "hiergraph":
        import pytest
        pytest.skip("hiergraph is installed in editable mode here; CI installs it for real")
    _probe(tmp_path)
