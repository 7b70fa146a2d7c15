"""What every benchmark shares: the process environment, machine facts, memory probes and small statistics.

Why an environment of its own: the benchmarks must not touch a user's ~/airflow, and figures must describe
what a deployed scheduler sees. Deployed interpreters cache bytecode; a session with
PYTHONDONTWRITEBYTECODE=1 recompiles every module in every process (measured: `import airflow.sdk` takes
~10 s instead of ~1-4 s), which would swamp every import figure. So bytecode goes to a private
PYTHONPYCACHEPREFIX directory (the virtualenv is left untouched) and child processes inherit that.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import resource
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PYCACHE_DIR = Path(tempfile.gettempdir()) / "nexmo-numbers-bench-pycache"

# Page size every listing benchmark uses: the API's maximum.
PAGE_SIZE = 100


def prepare_environment() -> Path:
    """Isolated AIRFLOW_HOME and a bytecode cache, for this process and every child it starts.

    Must run before anything imports Airflow (Airflow reads AIRFLOW_HOME on first import).
    """
    home = Path(tempfile.mkdtemp(prefix="nexmo-numbers-bench-airflow-home-"))
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE_DIR)
    PYCACHE_DIR.mkdir(parents=True, exist_ok=True)
    sys.pycache_prefix = str(PYCACHE_DIR)
    sys.dont_write_bytecode = False
    # The repo root on the path of children started with `python -m benchmarks.<worker>` from elsewhere.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return home


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measuring child process (inherits prepare_environment's settings)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_mb() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def source_info() -> dict[str, Any]:
    """Which code was measured: the git commit at ROOT and the provider files that differ from it (teammates
    edit the same tree while benchmarks run), or, for an exported snapshot, its `.source-commit` file."""
    import subprocess

    info: dict[str, Any] = {"root": str(ROOT)}
    try:
        info["commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "airflow_provider_nexmo_numbers"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        info["uncommitted_provider_files"] = [line[3:] for line in status.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        marker = ROOT / ".source-commit"
        info["commit"] = marker.read_text().strip() if marker.exists() else None
        info["snapshot"] = True
    return info


def machine_info() -> dict[str, Any]:
    """Where and when the figures were taken, including how busy the machine was at the start."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "mem_total_mb": _mem_total_mb(),
        "load_average_at_start": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "airflow": _version("apache-airflow"),
        "airflow_task_sdk": _version("apache-airflow-task-sdk"),
        "pydantic": _version("pydantic"),
        "requests": _version("requests"),
        "pyarrow": _version("pyarrow"),
        "provider": _version("airflow-provider-nexmo-numbers"),
        "bytecode_cache": str(PYCACHE_DIR),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# -- memory ---------------------------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kb() -> int | None:
    """Current resident set size (Linux)."""
    return _status_kb("VmRSS")


def hwm_kb() -> int | None:
    """Resident high-water mark since start or since the last `reset_hwm()` (Linux)."""
    return _status_kb("VmHWM")


def reset_hwm() -> bool:
    """Reset the RSS high-water mark to the current RSS (Linux >= 4.0), so a peak measured afterwards is the
    peak of what follows, not of the imports before. False when the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def ru_maxrss_kb() -> int:
    """getrusage's high-water mark (kB on Linux); never reset, so only a lower-bound check on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- processes ------------------------------------------------------------------------------------------


def child_pid(command_fragment: str) -> int | None:
    """The pid of this process's child whose command line contains `command_fragment` (Linux /proc)."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me and command_fragment in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    return None


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- statistics -----------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)
