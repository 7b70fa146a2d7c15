"""Before re-resolving the oldest end: give packages it does not pin yet the newest end's pins as preferences.

`uv pip compile -o FILE` prefers the versions already in FILE. A dependency added to pyproject.toml (and
pinned in constraints.txt) is absent from constraints-airflow-3.1.txt, so without this it would resolve to
whatever is newest today there, and the two ends would test different versions of a library for no reason.
Run by `make constraints`; pins that do not fit Airflow 3.1 are moved by the resolver as usual.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def pins(path: Path) -> dict[str, str]:
    """Normalised package name -> its `name==version` line."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {re.sub(r"[-_.]+", "-", line.split("==")[0].lower()): line for line in lines if line}


def main(newest: str, oldest: str) -> None:
    seeded = pins(Path(oldest))
    for name, line in pins(Path(newest)).items():
        seeded.setdefault(name, line)
    Path(oldest).write_text("\n".join(sorted(seeded.values())) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
