"""Temporary files of a killed file export are removed by the next run, never those of a live one (issue 11).

Real processes: an export runs in a child Python process against the sandbox (slowed down so it is caught
mid-way) and is killed with SIGKILL, which no `finally` survives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from airflow_provider_nexmo_numbers.transfers import _atomic
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from tests.transfers.conftest import run_context

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and flock are POSIX")

CHILD = textwrap.dedent(
    """
    import sys
    from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
    from tests.transfers.conftest import run_context

    op = NexmoNumbersToFileOperator(task_id="export", path=sys.argv[1], batch_size=100)
    print(op.execute(run_context())["rows"], flush=True)
    """
)
ROOT = Path(__file__).resolve().parents[2]


def _start_export(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        env=os.environ.copy(),  # the sandbox connection (AIRFLOW_CONN_*) and AIRFLOW_HOME of this session
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _temps(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.????????.tmp"))  # mkstemp: 8 characters


def _wait_for_data_in_temp(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        temps = [t for t in _temps(path) if t.stat().st_size > 0]
        if temps:
            return temps[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the export never wrote to its temporary file")


def _wait_until_stale(temp: Path) -> None:
    """Wait (bounded) until the killed export's file is older than the grace period for unlocked files."""
    while time.time() - temp.stat().st_mtime < _atomic.STALE_AFTER + 0.1:
        time.sleep(0.1)


@pytest.fixture
def slow_account(sandbox, nexmo_conn) -> None:
    sandbox.admin.seed_owned(2_000, country="DE", configured=True)  # 23 requests
    sandbox.admin.set_faults(latency_ms=80)  # about 2 s per export: long enough to catch it mid-way


def test_a_sigkilled_export_leaves_a_temp_file_the_next_run_removes(slow_account, sandbox, tmp_path):
    path = tmp_path / "numbers.csv"
    killed = _start_export(path)
    temp = _wait_for_data_in_temp(path, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    assert temp.exists()  # real inventory data, beside the target, that nobody removed
    assert "msisdn" in temp.read_text()

    _wait_until_stale(temp)
    sandbox.admin.set_faults()
    summary = NexmoNumbersToFileOperator(task_id="export", path=str(path)).execute(run_context())
    assert summary["rows"] == 2_000
    assert _temps(path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numbers.csv"]


def test_a_concurrent_exports_temp_file_is_left_alone(slow_account, sandbox, tmp_path):
    path = tmp_path / "numbers.csv"
    other_target = tmp_path / "numbers.csv.1"  # another target whose name extends this one
    other_temp = tmp_path / ".numbers.csv.1.abcdefgh.tmp"
    other_temp.write_text("not ours")
    os.utime(other_temp, (time.time() - 60, time.time() - 60))

    running = _start_export(path)
    temp = _wait_for_data_in_temp(path, running)
    # Freeze it mid-export (it keeps its open file and its lock) and make its file look long untouched, so
    # that only the lock can protect it from the second run.
    running.send_signal(signal.SIGSTOP)
    try:
        os.utime(temp, (time.time() - 3600, time.time() - 3600))
        assert _atomic.remove_stale_temps(path) == []  # what a second run does first
        second = NexmoNumbersToFileOperator(task_id="export", path=str(path)).execute(run_context())
        assert second["rows"] == 2_000
        assert temp.exists()
    finally:
        running.send_signal(signal.SIGCONT)

    out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    assert out.strip().splitlines()[-1] == "2000"
    assert not temp.exists()  # renamed onto the target
    assert path.stat().st_size > 0
    assert other_temp.exists()
    assert not other_target.exists()
