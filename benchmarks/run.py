"""`make bench`: run the benchmarks of issue 7, write one JSON file of figures, print a summary.

    .venv/bin/python -m benchmarks.run                      # everything (~5-8 min on 2 busy cores)
    .venv/bin/python -m benchmarks.run --quick              # small sizes, fewer samples (~1-2 min)
    .venv/bin/python -m benchmarks.run --only parse,tokens  # a subset: parse, tokens, export, quota,
                                                            # shared_quota, listing, sandbox, pgload

Measured, not asserted: the exit status is 0 whether or not a figure meets its target (it is 1 only when a
benchmark could not run). Figures go to benchmarks/results/latest.json (or --out), with the machine.
All traffic stays on 127.0.0.1: one sandbox subprocess serves every benchmark that needs the API.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, load_average, machine_info, prepare_environment, source_info

BENCHMARKS = ("parse", "tokens", "export", "quota", "shared_quota", "listing", "sandbox", "pgload")


def _settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "parse_fresh_repeat": 0,
            "parse_fork_repeat": 3,
            "token_calls": 1000,
            "export_sizes": (1_000, 10_000),
            "export_rounds": {1_000: 1, 10_000: 1},
            "export_tracemalloc": False,
            "export_latency": (2_000, 10.0, 1),
            "quota_rps": 20.0,
            "quota_pages": 60,
            "shared_quota_rps": 10.0,
            "shared_quota_pages": 100,
            "listing_pages": 20,
            "listing_rounds": 3,
            "sandbox_seconds": 2.0,
            "pgload": (10_000, 2),
        }
    return {
        "parse_fresh_repeat": 9,
        "parse_fork_repeat": 9,
        "token_calls": 1000,
        "export_sizes": (10_000, 100_000),
        "export_rounds": {10_000: 3, 100_000: 3},
        "export_tracemalloc": True,
        "export_latency": (10_000, 10.0, 3),  # (owned, ms per page, rounds): a real API's round trip
        "quota_rps": 20.0,
        "quota_pages": 350,  # ~17.5 s at 20 requests/s
        "shared_quota_rps": 10.0,
        "shared_quota_pages": 300,  # ~30 s at 10 requests/s, whatever the number of processes
        "listing_pages": 50,
        "listing_rounds": 21,  # paired rounds: the machine drifts by more than the differences measured
        "sandbox_seconds": 5.0,
        "pgload": (50_000, 5),  # (rows, rounds)
    }


def _mark(passed: bool | None) -> str:
    return "n/a " if passed is None else ("PASS" if passed else "MISS")


def summary_lines(results: dict[str, Any]) -> list[str]:
    """One line per figure: name, value, target, verdict."""
    lines: list[str] = []
    parse = results.get("parse")
    if parse and "error" not in parse:
        heavy = parse["heavy_imported"] or "none"
        lines.append(
            f"[{_mark(parse['passed'])}] parse cost: worst {parse['worst_median_ms']:.1f} ms "
            f"({parse['worst_module'].split('.', 1)[1]}, "
            f"median of {parse['verdict_method']} processes; target <= {parse['target_ms']:.0f} ms); "
            f"sum {parse['sum_median_ms']:.1f} ms (target <= {parse['sum_target_ms']:.0f}); "
            f"heavy imports: {heavy}"
        )
        method = parse["verdict_method"]
        for module, figures in parse["modules"].items():
            chosen = figures[method]
            if "error" in chosen:
                lines.append(f"         {module}: {chosen['error']}")
                continue
            fork = figures.get("fork", {})
            extra = f" (fork median {fork['median_ms']:.1f}, min {fork['min_ms']:.1f})" if fork else ""
            lines.append(f"         {module.split('.', 1)[1]:<24} {chosen['median_ms']:7.1f} ms{extra}")
    tokens = results.get("tokens")
    if tokens and "error" not in tokens:
        lines.append(
            f"[{_mark(tokens['passed'])}] token economy: {tokens['tokens_issued']} token(s) for "
            f"{tokens['sandbox_api_requests']} API calls (target {tokens['target_tokens']})"
        )
    export = results.get("export")
    if export and "error" not in export:
        largest = str(max(export["sizes"]))
        for kind in ("sqlite", "parquet"):
            fig = export["sizes_figures"][largest][kind]
            lines.append(
                f"[{_mark(fig['ratio_to_floor_median'] <= export['target_ratio'])}] export {kind} "
                f"{int(largest):,}: {fig['seconds_median']:.2f} s = "
                f"{fig['ratio_to_floor_median']:.2f} x floor "
                f"({export['sizes_figures'][largest]['floor']['seconds_median']:.2f} s; target <= "
                f"{export['target_ratio']}); CPU-based {fig['cpu_ratio_to_floor_median']} x"
            )
        for kind in ("sqlite", "parquet"):
            growth = [
                f"{int(size):,}: {figs[kind]['rss_growth_mb_max']} MB"
                + (
                    f" (tracemalloc {figs[kind]['tracemalloc_peak_mb']} MB)"
                    if "tracemalloc_peak_mb" in figs[kind]
                    else ""
                )
                for size, figs in export["sizes_figures"].items()
            ]
            worst = max(figs[kind]["rss_growth_mb_max"] for figs in export["sizes_figures"].values())
            lines.append(
                f"[{_mark(worst <= export['target_growth_mb'])}] export {kind} RSS peak growth "
                f"{', '.join(growth)} (target <= {export['target_growth_mb']:.0f} MB)"
            )
        latency = export.get("with_latency")
        if latency:
            for kind, fig in latency["figures"].items():
                if kind == "floor":
                    continue
                lines.append(
                    f"[n/a ] with {latency['latency_ms']:g} ms per page (a real API's round trip), "
                    f"{kind} {latency['owned']:,}: {fig['ratio_to_floor_median']:.2f} x floor "
                    f"({latency['figures']['floor']['seconds_median']:.2f} s)"
                )
        for kind in ("client", "sqlite+readahead", "parquet+readahead"):
            fig = export["sizes_figures"][largest].get(kind)
            if fig is None:
                continue
            what = "client listing only, nothing written" if kind == "client" else f"diagnosis: {kind}"
            lines.append(
                f"[n/a ] {what} {int(largest):,}: {fig['seconds_median']:.2f} s = "
                f"{fig['ratio_to_floor_median']:.2f} x floor; CPU-based {fig['cpu_ratio_to_floor_median']} x"
            )
    stages = results.get("export_stages")
    if stages and "error" not in stages:
        floor_us = None
        if export and "error" not in export:
            largest = str(max(export["sizes"]))
            floor_us = export["sizes_figures"][largest]["floor"]["seconds_median"] / int(largest) * 1e6
            lines.append(f"[n/a ] per number: floor (HTTP only) {floor_us:.1f} us; stages of an export:")
        else:
            lines.append("[n/a ] per number, stages of an export:")
        for name, value in stages["stages"].items():
            lines.append(f"         {value:7.2f} us  {name}")
    quota = results.get("quota")
    if quota and "error" not in quota:
        lines.append(
            f"[{_mark(quota['passed'])}] quota saturation at {quota['quota_rps']:g} rps: "
            f"{quota['fraction_of_quota']:.2f} of R, {quota['sandbox_429']} x 429 "
            f"(target >= {quota['target_fraction']} of R, no 429)"
        )
    for one in (quota or {}).get("phase_sweep", []):
        lines.append(
            f"[n/a ] diagnosis: quota {one['quota_rps']:g}, client {one['client_rate_limit']:g}, "
            f"{one['phase_ms']:g} ms before a window: {one['fraction_of_quota']:.2f} of R, "
            f"{one['sandbox_429']} x 429"
        )
    shared = results.get("shared_quota")
    for one in (shared or {}).get("runs", []):
        lines.append(
            f"[{_mark(one['passed'])}] shared quota, {one['processes']} process(es) at "
            f"{one['quota_rps']:g} rps (default pacing): {one['ratio_to_minimum']:.3f} x pages/quota, "
            f"{one['sandbox_429']} x 429 (target <= {shared['target_ratio']}, no 429)"
        )
    listing = results.get("listing")
    if listing and "error" not in listing:
        for transport in ("http", "https"):
            figures = listing.get(transport)
            if not figures:
                continue
            ratios = ", ".join(f"{k} {v:.2f} x" for k, v in figures["ratio_to_bare"].items() if k != "bare")
            mark = _mark(listing["passed"]) if transport == "http" else "n/a "
            lines.append(
                f"[{mark}] listing CPU over {transport}: bare "
                f"{figures['cpu_ms_per_page']['bare']:.2f} ms/page; {ratios} "
                f"(target client <= {listing['target_ratio']} x over http)"
            )
    pgload = results.get("pgload")
    if pgload and "error" not in pgload:
        if "skipped" in pgload:
            lines.append(f"[n/a ] PostgreSQL load: skipped ({pgload['skipped']})")
        for driver, fig in pgload.get("drivers", {}).items():
            us = {
                name: fig[name]["us_per_row_median"] for name in ("provider_copy", "bare_copy", "executemany")
            }
            lines.append(
                f"[n/a ] PostgreSQL load {pgload['rows']:,} rows, {driver}: provider COPY "
                f"{us['provider_copy']} us/row = {fig['ratio_provider_to_bare_copy']} x bare COPY "
                f"({us['bare_copy']}; best of rounds {fig.get('ratio_provider_to_bare_copy_min')} x); "
                f"executemany {us['executemany']} = "
                f"{fig['ratio_executemany_to_provider']} x provider"
            )
    sandbox = results.get("sandbox")
    if sandbox and "error" not in sandbox:
        lines.append(
            f"[n/a ] sandbox speed: {sandbox['pages_per_second']} pages of 100/s "
            f"(p50 {sandbox['latency_ms_p50']} ms; "
            f"sandbox CPU {sandbox.get('server_cpu_ms_per_page')} ms/page "
            f"= {sandbox.get('server_capacity_pages_per_second')} pages/s on an idle core)"
        )
    for name, value in results.items():
        if isinstance(value, dict) and "error" in value:
            lines.append(f"[FAIL] {name}: could not run: {value['error'].splitlines()[-1]}")
    return lines


def _guarded(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"== {name} (load {load_average()})", flush=True)
    t0 = time.perf_counter()
    try:
        result = fn()
    except Exception:
        traceback.print_exc()
        return {"error": traceback.format_exc()}
    result["benchmark_seconds"] = round(time.perf_counter() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the provider's benchmarks (issue 7).")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes and fewer samples")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also: exports with a one-page read-ahead; quota runs started at chosen phases, at R and 0.95 R",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json", help="JSON file to write")
    args = parser.parse_args(argv)
    selected = BENCHMARKS if not args.only else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(selected) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    prepare_environment()  # before anything imports Airflow
    settings = _settings(args.quick)
    started = time.perf_counter()
    document: dict[str, Any] = {
        "machine": machine_info(),
        "source": source_info(),
        "note": "other processes (teammates' test runs) may share these cores; see load averages",
        "quick": args.quick,
        "selected": list(selected),
        "diagnose": args.diagnose,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "results": {},
    }
    results: dict[str, Any] = document["results"]

    if "parse" in selected:
        from benchmarks import parse_cost

        results["parse"] = _guarded(
            "parse cost",
            lambda: parse_cost.run(
                fresh_repeat=settings["parse_fresh_repeat"], fork_repeat=settings["parse_fork_repeat"]
            ),
        )

    if "pgload" in selected:
        from benchmarks import pg_load

        rows, rounds = settings["pgload"]
        results["pgload"] = _guarded("PostgreSQL load", lambda: pg_load.run(rows=rows, rounds=rounds))

    if set(selected) - {"parse", "pgload"}:
        from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox_subprocess

        owned = max(settings["export_sizes"])
        with run_sandbox_subprocess(SandboxConfig(owned_numbers=owned)) as sb:
            document["sandbox_startup_seconds"] = round(sb.started_in, 2)
            if "sandbox" in selected:
                from benchmarks import sandbox_pages

                results["sandbox"] = _guarded(
                    "sandbox speed",
                    lambda: sandbox_pages.run(sb, owned=owned, seconds=settings["sandbox_seconds"]),
                )
            if "tokens" in selected:
                from benchmarks import token_economy

                results["tokens"] = _guarded(
                    "token economy", lambda: token_economy.run(sb, calls=settings["token_calls"])
                )
            if "export" in selected:
                from benchmarks import export_throughput

                results["export"] = _guarded(
                    "export throughput",
                    lambda: export_throughput.run(
                        sb,
                        sizes=settings["export_sizes"],
                        rounds=settings["export_rounds"],
                        trace=settings["export_tracemalloc"],
                        latency=settings["export_latency"],
                        diagnose=args.diagnose,
                    ),
                )
                from benchmarks import export_stages

                results["export_stages"] = _guarded(
                    "export stages (diagnosis)", lambda: export_stages.run(sb)
                )
            if "quota" in selected:
                from benchmarks import quota_saturation

                results["quota"] = _guarded(
                    "quota saturation",
                    lambda: quota_saturation.run(
                        sb,
                        rate=settings["quota_rps"],
                        pages=settings["quota_pages"],
                        phases_ms=(0.5, 1.0, 2.0) if args.diagnose else (),
                    ),
                )

            if "shared_quota" in selected:
                from benchmarks import quota_processes

                results["shared_quota"] = _guarded(
                    "shared quota",
                    lambda: quota_processes.run(
                        sb, rate=settings["shared_quota_rps"], pages_total=settings["shared_quota_pages"]
                    ),
                )
            if "listing" in selected:
                from benchmarks import listing_cpu

                results["listing"] = _guarded(
                    "listing CPU",
                    lambda: listing_cpu.run(
                        sb,
                        owned=owned,
                        pages=settings["listing_pages"],
                        rounds=settings["listing_rounds"],
                    ),
                )

    document["seconds_total"] = round(time.perf_counter() - started, 1)
    document["load_average_at_end"] = load_average()
    document["summary"] = summary_lines(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, default=str) + "\n")

    print()
    machine = document["machine"]
    source = document["source"]
    dirty = source.get("uncommitted_provider_files")
    print(f"measured: {source['root']} at {source['commit']}" + (f", uncommitted: {dirty}" if dirty else ""))
    print(
        f"{machine['date']}  {machine['cpu_count']} x {machine['cpu_model']}  Python {machine['python']}  "
        f"Airflow {machine['airflow']}  load {machine['load_average_at_start']} -> "
        f"{document['load_average_at_end']}"
    )
    for line in document["summary"]:
        print(line)
    print(f"total {document['seconds_total']} s; figures written to {args.out}")
    return 1 if any(isinstance(v, dict) and "error" in v for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
