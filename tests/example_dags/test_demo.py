"""`make demo` end to end: scripts/demo.py as a user runs it, in a subprocess, on a fresh temporary home.

It starts its own sandbox and Airflow processes; the test checks the exit code, the summary and that nothing
it started is left running (its sandbox port is closed, no process mentions its temporary directory).
About 1-2 minutes on a 2-core machine, most of it importing Airflow and migrating the SQLite database.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.example_dags.conftest import REPO

pytestmark = pytest.mark.timeout(330)


def _port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


def test_demo_runs_every_example_dag_and_cleans_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}  # as from a plain shell
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "scripts/demo.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 0, out[-6000:] + result.stderr[-3000:]

    assert "=== Nexmo Numbers demo: 5/5 DAG runs succeeded" in out
    assert re.search(r"bought \d{11,13} \(EUR \d+\.\d\d/month\)", out)
    assert re.search(r"webhook http://127\.0\.0\.1:\d+/_sandbox/webhooks/campaign: (ready|already)", out)
    assert re.search(r"plan for 3 GB numbers: keep 0, reconfigure 0, adopt 0, buy 3; monthly cost EUR", out)
    assert re.search(r"exported 18 rows -> SQL table nexmo_owned_numbers", out)
    assert re.search(r"exported 18 rows -> /\S+/owned_numbers_\d{8}T\d{6}\.parquet", out)
    assert re.search(r"GB\s+mobile-lvn\s+9\s+\d+\.\d\d", out)
    assert re.search(r"dry run: would release (\d+, ){2}\d+ \(cap 5\)", out)
    assert re.search(r"released (\d+, ){2}\d+", out)
    assert "(GB 6, NL 4, US 5), as before the demo" in out
    assert "all runs succeeded" in out

    sandbox_url = re.search(r"running at (http://127\.0\.0\.1:\d+)", out).group(1)
    workdir = re.search(r"Logs, exports and the Airflow home: (\S+)", out).group(1)
    assert not _port_open(sandbox_url)
    assert _processes_mentioning(workdir) == []
    shutil.rmtree(workdir, ignore_errors=True)  # logs and exports, kept by the demo for its user
    print(f"demo took {elapsed:.0f} s")
