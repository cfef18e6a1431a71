"""`make fixtures` regenerates every fixture a script in scripts/ writes, and each script says how it is run."""

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
