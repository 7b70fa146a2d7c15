"""Benchmark 1, parse cost: what importing each public module adds on top of `import airflow.sdk`.

Targets (issue 12): every public module <= 5 ms over `airflow.sdk` (median of 9 fresh processes), the sum of
those medians <= 30 ms, and none imports `airflow.triggers.base` or another heavy package. The public
modules are the ones a DAG processor imports: those the provider declares to Airflow (`get_provider_info`:
hooks, operators, sensors, triggers, transfers), `get_provider_info` itself, and every provider module an
example DAG imports (read from their source, not imported). The client and the sandbox are libraries
behind them, loaded when a task runs.

A DAG processor imports `airflow.sdk` anyway; what a provider costs a DAG file is the import of its own module
after that. Each sample is one process in which `airflow.sdk` is already imported, timing only
`importlib.import_module(<module>)` with `time.perf_counter`, and then listing which heavy packages that
import dragged in. Two ways to get such a process:

- fresh: `python -c ...` per sample (what the issue asks for; ~1-5 s each, dominated by airflow.sdk);
- fork: one interpreter imports `airflow.sdk` once and forks a child per sample; the child is exactly a
  process "after import airflow.sdk", at a fraction of the cost, so many more samples fit in the budget.

Both use the same bytecode cache (warmed first), as a deployed scheduler would.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Child processes run this module too: at module level it imports only the standard library, so that nothing
# but `airflow.sdk` is loaded before the measured import. The driver's helpers are imported where used.

PACKAGE = "airflow_provider_nexmo_numbers"


def public_modules() -> tuple[str, ...]:
    """The modules a DAG processor imports (see the module docstring), in a stable order."""
    import ast

    from airflow_provider_nexmo_numbers.get_provider_info import get_provider_info

    info = get_provider_info()
    found = {f"{PACKAGE}.get_provider_info"}
    for kind in ("hooks", "operators", "sensors", "triggers", "transfers"):
        for entry in info.get(kind, []):
            found.update(entry.get("python-modules") or [entry["python-module"]])
    for dag_file in (Path(__file__).resolve().parents[1] / "example_dags").glob("*.py"):
        for node in ast.walk(ast.parse(dag_file.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
                found.add(node.module)
    return tuple(sorted(found))


MODULES: tuple[str, ...] = public_modules() if __name__ != "__main__" else ()
# Must never be imported by parsing a DAG that uses the provider.
HEAVY: tuple[str, ...] = (
    "pyarrow",
    "fastapi",
    "uvicorn",
    "pandas",
    "httpx",
    "airflow.triggers.base",
    f"{PACKAGE}.sandbox",
)
# Allowed but worth knowing (the contracts ask operator modules to load the client lazily).
NOTED: tuple[str, ...] = (f"{PACKAGE}.client", "requests", "tenacity", "pydantic")
TARGET_MS = 5.0
SUM_TARGET_MS = 30.0


def _present(names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in sys.modules]


def measure_one(module: str) -> dict[str, Any]:
    """Import `module` in this process (airflow.sdk already imported) and describe what it cost."""
    baseline_heavy = _present(HEAVY)
    baseline_noted = _present(NOTED)
    before = set(sys.modules)
    t0 = time.perf_counter()
    importlib.import_module(module)
    elapsed = time.perf_counter() - t0
    added = set(sys.modules) - before
    top_level = sorted({name.split(".")[0] for name in added} - {PACKAGE})
    return {
        "ms": round(elapsed * 1000.0, 3),
        "heavy_added": [name for name in _present(HEAVY) if name not in baseline_heavy],
        "heavy_after_airflow_sdk": baseline_heavy,
        "noted_added": [name for name in _present(NOTED) if name not in baseline_noted],
        "modules_added": len(added),
        "packages_added": top_level,
    }


# -- child-process entry points ---------------------------------------------------------------------------


def _fresh_child(module: str) -> None:
    import airflow.sdk  # noqa: F401  (the baseline every DAG file pays)

    print(json.dumps(measure_one(module)))


def _fork_server(modules: list[str], repeat: int) -> None:
    """Import airflow.sdk once, then fork one child per (round, module); print every sample as JSON."""
    import airflow.sdk  # noqa: F401

    samples: dict[str, list[dict[str, Any]]] = {m: [] for m in modules}
    for _ in range(repeat):
        for module in modules:  # round-robin, so a burst of load elsewhere hits every module alike
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # child
                os.close(read_fd)
                try:
                    payload = json.dumps(measure_one(module)).encode()
                except BaseException as error:  # report, never fall back into the parent's loop
                    payload = json.dumps({"error": repr(error)}).encode()
                os.write(write_fd, payload)
                os._exit(0)
            os.close(write_fd)
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
            os.close(read_fd)
            os.waitpid(pid, 0)
            samples[module].append(json.loads(b"".join(chunks)))
    print(json.dumps(samples))


# -- orchestration (runs in the benchmark driver) ---------------------------------------------------------


def _python(*args: str, timeout: float) -> str:
    from benchmarks.common import ROOT, child_env

    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"parse-cost child failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _warm_bytecode_cache(modules: tuple[str, ...]) -> float:
    """Compile everything once into the bytecode cache, so no sample pays for compilation."""
    code = "import airflow.sdk\n" + "".join(f"import {m}\n" for m in modules) + "print('ok')"
    t0 = time.perf_counter()
    _python("-c", code, timeout=300)
    return time.perf_counter() - t0


def _airflow_sdk_import_seconds() -> float:
    code = "import time\nt0 = time.perf_counter()\nimport airflow.sdk\nprint(time.perf_counter() - t0)"
    return float(_python("-c", code, timeout=300))


def _summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    from benchmarks.common import median

    errors = [s["error"] for s in samples if "error" in s]
    if errors:
        return {"error": errors[0]}
    values = [s["ms"] for s in samples]
    return {
        "median_ms": round(median(values), 3),
        "min_ms": min(values),
        "max_ms": max(values),
        "samples_ms": values,
        "heavy_added": sorted({h for s in samples for h in s["heavy_added"]}),
        "heavy_after_airflow_sdk": sorted({h for s in samples for h in s["heavy_after_airflow_sdk"]}),
        "noted_added": sorted({h for s in samples for h in s["noted_added"]}),
        "packages_added": sorted({p for s in samples for p in s["packages_added"]}),
        "modules_added": samples[0]["modules_added"],
    }


def run(*, fresh_repeat: int, fork_repeat: int, log: Any = print) -> dict[str, Any]:
    """Both methods for every module; the verdict uses the fresh-process medians when they were taken."""
    from benchmarks.common import load_average

    result: dict[str, Any] = {
        "target_ms": TARGET_MS,
        "sum_target_ms": SUM_TARGET_MS,
        "heavy_checked": list(HEAVY),
        "load_before": load_average(),
    }
    result["bytecode_warmup_seconds"] = round(_warm_bytecode_cache(MODULES), 2)
    result["airflow_sdk_import_seconds"] = round(_airflow_sdk_import_seconds(), 3)
    log(f"  import airflow.sdk alone: {result['airflow_sdk_import_seconds']:.2f} s (cached bytecode)")

    modules: dict[str, dict[str, Any]] = {m: {} for m in MODULES}
    if fork_repeat:
        t0 = time.perf_counter()
        raw = json.loads(
            _python(
                "-m", "benchmarks.parse_cost", "--fork", "--repeat", str(fork_repeat), *MODULES, timeout=600
            )
        )
        for module, samples in raw.items():
            modules[module]["fork"] = _summarise(samples)
        result["fork_repeat"] = fork_repeat
        result["fork_seconds"] = round(time.perf_counter() - t0, 1)
    if fresh_repeat:
        t0 = time.perf_counter()
        fresh: dict[str, list[dict[str, Any]]] = {m: [] for m in MODULES}
        for _ in range(fresh_repeat):
            for module in MODULES:
                fresh[module].append(json.loads(_python("-m", "benchmarks.parse_cost", module, timeout=300)))
        for module, samples in fresh.items():
            modules[module]["fresh"] = _summarise(samples)
        result["fresh_repeat"] = fresh_repeat
        result["fresh_seconds"] = round(time.perf_counter() - t0, 1)

    method = "fresh" if fresh_repeat else "fork"
    worst_module, worst_ms, heavy, total_ms = None, 0.0, {}, 0.0
    for module, figures in modules.items():
        chosen = figures[method]
        if "error" in chosen:
            heavy[module] = [f"import failed: {chosen['error']}"]
            continue
        total_ms += chosen["median_ms"]
        if chosen["median_ms"] > worst_ms:
            worst_module, worst_ms = module, chosen["median_ms"]
        added = sorted(set(chosen["heavy_added"]) | set(figures.get("fork", chosen)["heavy_added"]))
        if added:
            heavy[module] = added
    result.update(
        modules=modules,
        verdict_method=method,
        worst_module=worst_module,
        worst_median_ms=worst_ms,
        sum_median_ms=round(total_ms, 3),
        heavy_imported=heavy,
        load_after=load_average(),
        passed=worst_ms <= TARGET_MS and total_ms <= SUM_TARGET_MS and not heavy,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="parse-cost child process (used by benchmarks.run)")
    parser.add_argument("--fork", action="store_true", help="fork server: sample every module --repeat times")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args(argv)
    if args.fork:
        _fork_server(args.modules, args.repeat)
    else:
        _fresh_child(args.modules[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
