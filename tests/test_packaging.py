"""The declared dependency ranges and the two pinned ends in requirements/ agree.

`make install` and `make test-oldest` install from the constraints files, so a dependency added to
pyproject.toml without a pin in both files would be resolved afresh on every machine, and a raised floor
the oldest file does not follow would leave that floor untested. Both are caught here, with no network.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
CONSTRAINTS = {
    "newest": REPO / "requirements" / "constraints.txt",
    "oldest": REPO / "requirements" / "constraints-airflow-3.1.txt",
}
# Declared floors that the oldest end pins exactly, so the minimum itself is what `make test-oldest` runs.
PINNED_AT_THE_FLOOR = ("apache-airflow-providers-common-compat", "apache-airflow-providers-common-sql")


def pins(path: Path) -> dict[str, Version]:
    """name -> pinned version of a constraints file (`name==version` lines; comments and blanks skipped)."""
    result = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line!r} is not an exact pin"
            result[canonicalize_name(req.name)] = Version(spec.version)
    return result


def declared() -> list[Requirement]:
    """Every requirement in pyproject: runtime and each extra, without the self-reference of `dev`."""
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in PROJECT["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra if Requirement(r).name != PROJECT["name"]]
    return reqs


def floor(req: Requirement) -> Version:
    (spec,) = [s for s in req.specifier if s.operator == ">="]
    return Version(spec.version)


@pytest.mark.parametrize("end", sorted(CONSTRAINTS))
def test_every_declared_dependency_is_pinned_within_its_range(end):
    pinned = pins(CONSTRAINTS[end])
    problems = []
    for req in declared():
        version = pinned.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name}: not pinned")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: pinned {version}, outside {req.specifier}")
    assert problems == [], f"{CONSTRAINTS[end].name} (run `make constraints`): {problems}"


def test_the_oldest_end_is_the_declared_minimum():
    """Airflow at the floor's minor release, and the floors that matter pinned exactly."""
    oldest = pins(CONSTRAINTS["oldest"])
    by_name = {canonicalize_name(r.name): r for r in declared()}
    airflow_floor = floor(by_name["apache-airflow"])
    assert oldest["apache-airflow"].release[:2] == airflow_floor.release[:2]
    for name in PINNED_AT_THE_FLOOR:
        assert oldest[name] == floor(by_name[name]), name


def test_the_newest_end_is_newer_than_the_oldest():
    """Otherwise both CI runs would test the same Airflow."""
    assert (
        pins(CONSTRAINTS["newest"])["apache-airflow"].release[:2]
        > pins(CONSTRAINTS["oldest"])["apache-airflow"].release[:2]
    )


def test_python_floor_matches_ruff_target():
    """The lowest Python the package declares is the one ruff checks the syntax for."""
    python_floor = Version(PROJECT["requires-python"].removeprefix(">="))
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{python_floor.major}{python_floor.minor}"
