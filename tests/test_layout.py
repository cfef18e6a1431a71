"""The project's layout holds: `make fixtures` regenerates every fixture a script in scripts/ writes, and the tests
share their helpers through one package (tests/helpers/), imported one way."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_fixtures_runs_every_fixture_script():
    makefile = ROOT.joinpath("Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^FIXTURE_SCRIPTS := (.*?)\n\n", makefile, flags=re.M | re.S).group(1)
    names = set(listed.replace("\\", " ").split())
    scripts = {path.stem for path in ROOT.glob("scripts/make_*.py")}
    assert names == scripts, (sorted(scripts - names), sorted(names - scripts))
    assert "for script in $(FIXTURE_SCRIPTS)" in makefile
    for path in ROOT.glob("scripts/make_*.py"):
        assert f".venv-hf457/bin/python scripts/{path.name}" in path.read_text(encoding="utf-8"), path.name


def test_tests_import_their_helpers_from_one_package_one_way():
    # helpers live in tests/helpers/; tests import them relatively, never from conftest or from another test module
    wrong = re.compile(r"^\s*from (tests\.|\.conftest import|\.test_\w+ import)", flags=re.M)
    found = [f"{path.name}: {match.group(0).strip()}" for path in sorted(ROOT.glob("tests/*.py"))
             for match in wrong.finditer(path.read_text(encoding="utf-8"))]  # fmt: skip
    assert not found, found
    loose = {p.name for p in ROOT.glob("tests/*.py")} - {"__init__.py", "conftest.py", "fault_runner.py"}
    assert all(name.startswith("test_") for name in loose), sorted(n for n in loose if not n.startswith("test_"))
