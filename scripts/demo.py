"""`make demo`: run every example DAG with real Airflow against the local sandbox and say what happened.

What it does, from a fresh clone with nothing running:

1. starts the sandbox (a local Numbers API + KPN gateway) in a subprocess on a free port, with an account that
   already owns a few numbers in GB, NL and US (the campaign must leave those alone);
2. makes a throwaway AIRFLOW_HOME on SQLite in a temporary directory and runs ``airflow db migrate``;
3. points the connections at the sandbox through ``AIRFLOW_CONN_*`` environment variables
   (``nexmo_numbers_default``, and ``nexmo_numbers_warehouse``: a SQLite file for the SQL export);
4. runs each example DAG with ``dag.test()``, one subprocess per DAG run (this same script with
   ``--run-dag``), each bounded by a timeout, in this order: basic verbs, weekly campaign, inventory export,
   inventory report, campaign release; configuration reaches the DAGs as ``run_conf`` (their Params);
5. prints a summary gathered from the runs' XComs and the sandbox's admin API, stops everything it started
   (also on failure or Ctrl-C) and exits 0 only if every run succeeded.

This script is the parent; it never imports Airflow (each child does, with the demo's environment set first).
The temporary directory keeps the task logs and the exported files; ``--clean`` deletes it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DAGS_DIR = REPO / "example_dags"
if str(REPO) not in sys.path:  # `python scripts/demo.py` puts scripts/ first, not the repo
    sys.path.insert(0, str(REPO))

COUNTRY = "GB"
#: Numbers the sandbox account owns before the demo starts (configured elsewhere; not the campaign's).
PRE_OWNED = {"GB": 6, "NL": 4, "US": 5}
#: Seconds the demo webhooks answer 503 after being armed (the sensors wait for them).
WEBHOOK_DELAY = 4.0
RUN_TIMEOUT = 240.0  # per DAG run, seconds
MIGRATE_TIMEOUT = 300.0


@dataclass
class Step:
    """One DAG run of the demo: which DAG, with which Params, and what the summary says about it."""

    dag_id: str
    conf: dict[str, Any] = field(default_factory=dict)
    webhook: str | None = None  # name of the sandbox demo webhook to arm and pass as `webhook_url`
    result: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0  # time.time() in the child when the run started
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result.get("state") == "success"


# -- the child: every dag.test() run, in one process ---------------------------------------------------------
# Importing Airflow and booting dag.test()'s in-process execution API cost most of a run on a small machine;
# one child pays them once. The parent still bounds every run: the child reports each start and end in a
# progress file, and the parent kills the child (with everything it spawned) when a run overstays.


def run_dags(plan_file: Path, progress: Path) -> int:
    """Run the planned DAGs in order with dag.test(); stop at the first that does not succeed."""
    from airflow_provider_nexmo_numbers.sandbox import SandboxAdmin
    from tests.fixtures.airflow_compat import parse_dag_folder

    plan = json.loads(plan_file.read_text())
    admin = SandboxAdmin(plan["sandbox_url"])
    bag = parse_dag_folder(DAGS_DIR)
    if bag.import_errors:
        _report(progress, {"event": "import_errors", "errors": bag.import_errors})
        return 2
    for step in plan["steps"]:
        conf = dict(step["conf"])
        if step.get("webhook"):
            # Armed just before the run: the demo webhook answers 503 for a few seconds, so the sensor waits.
            conf["webhook_url"] = admin.webhook_url(step["webhook"], ready_after=WEBHOOK_DELAY)
        _report(progress, {"event": "start", "dag_id": step["dag_id"]})
        dag_run = bag.get_dag(step["dag_id"]).test(run_conf=conf)
        result = {
            "state": str(dag_run.state),
            "run_id": dag_run.run_id,
            "tasks": {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in dag_run.get_task_instances()},
            "xcom": _return_values(dag_run),
        }
        _report(progress, {"event": "end", "dag_id": step["dag_id"], "conf": conf, "result": result})
        if result["state"] != "success":
            return 1
    return 0


def _report(progress: Path, event: dict[str, Any]) -> None:
    with progress.open("a") as fh:
        fh.write(json.dumps({**event, "time": time.time()}, default=str) + "\n")


def _return_values(dag_run: Any) -> dict[str, Any]:
    """Every task's return value; a mapped task's as a list in map_index order."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.map_index, XComModel.value)
            .where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.key == "return_value",
            )
            .order_by(XComModel.task_id, XComModel.map_index)
        ).all()
    values: dict[str, Any] = {}
    for task_id, map_index, value in rows:
        value = json.loads(value) if isinstance(value, str) else value
        if map_index >= 0:
            values.setdefault(task_id, []).append(value)
        else:
            values[task_id] = value
    return values


# -- the parent ----------------------------------------------------------------------------------------------


def _env(home: Path, sb: Any, warehouse: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            # rate_limit well above what a demo needs, so nothing waits on the client's limiter.
            "AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT": sb.connection_json(rate_limit=50, timeout=5, max_retries=3),
            "AIRFLOW_CONN_NEXMO_NUMBERS_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(warehouse)}
            ),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


@contextmanager
def _process_group(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, killed with everything it spawned if still running on exit."""
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(proc.pid, sig)
                    except ProcessLookupError:
                        break
                    try:
                        proc.wait(5)
                        break
                    except subprocess.TimeoutExpired:
                        continue


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_steps(steps: list[Step], sandbox_url: str, env: dict[str, str], logs: Path) -> None:
    """Run the child and follow its progress file; a run longer than RUN_TIMEOUT kills the child."""
    plan_file, progress, log = logs / "plan.json", logs / "progress.jsonl", logs / "dag-runs.log"
    plan = {
        "sandbox_url": sandbox_url,
        "steps": [{"dag_id": s.dag_id, "conf": s.conf, "webhook": s.webhook} for s in steps],
    }
    plan_file.write_text(json.dumps(plan))
    by_id = {step.dag_id: step for step in steps}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-dags", str(plan_file), str(progress)]
    seen = 0
    current: Step | None = None
    deadline = time.monotonic() + RUN_TIMEOUT + 60  # the first run also pays for importing Airflow
    with _process_group(cmd, env, log) as proc:
        while True:
            exited = proc.poll() is not None
            events = progress.read_text().splitlines() if progress.exists() else []
            for line in events[seen:]:
                event = json.loads(line)
                step = by_id.get(event.get("dag_id", ""))
                if event["event"] == "start" and step is not None:
                    current, step.started = step, event["time"]
                    deadline = time.monotonic() + RUN_TIMEOUT
                    print(f"dag.test() {step.dag_id} ...", end=" ", flush=True)
                elif event["event"] == "end" and step is not None:
                    step.seconds = event["time"] - step.started
                    step.conf, step.result, current = event["conf"], event["result"], None
                    print(f"{step.result['state']} in {step.seconds:.1f} s", flush=True)
                elif event["event"] == "import_errors":
                    print(f"example DAGs failed to import: {json.dumps(event['errors'], indent=2)}")
            seen = len(events)
            if exited:
                break
            if time.monotonic() > deadline:
                if current is not None:
                    current.seconds = time.time() - current.started
                    current.result = {"state": f"killed after {RUN_TIMEOUT:.0f} s"}
                    print(current.result["state"], flush=True)
                break
            time.sleep(0.2)
    if current is not None and not current.result:
        current.result = {"state": f"crashed (exit code {proc.returncode})"}
        print(current.result["state"], flush=True)
    failed = next((s for s in steps if s.result and not s.ok), None)
    if failed is not None or proc.returncode != 0:
        if failed is not None and failed.result.get("tasks"):
            print(f"{failed.dag_id} task states: {json.dumps(failed.result['tasks'])}")
        print(f"Last lines of {log}:\n{_tail(log)}")


def demo(workdir: Path, clean: bool = False) -> int:
    from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox_subprocess

    home, logs, exports = workdir / "airflow", workdir / "logs", workdir / "exports"
    for path in (home, logs, exports):
        path.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    # The demo's webhooks are served by the sandbox itself on 127.0.0.1, which the real API's webhook check
    # cannot reach: allow loopback explicitly.
    cfg = SandboxConfig(
        seed=7, owned_numbers=PRE_OWNED["GB"], owned_country="GB", webhook_allow_loopback=True
    )
    with run_sandbox_subprocess(cfg) as sb:
        for country, n in PRE_OWNED.items():
            if country != "GB":
                sb.admin.seed_owned(n, country=country)
        print(f"Sandbox (Numbers API + KPN gateway) running at {sb.url}", flush=True)
        env = _env(home, sb, workdir / "warehouse.db")

        print("Migrating a throwaway Airflow metadata database (SQLite) ...", flush=True)
        with _process_group(
            [sys.executable, "-m", "airflow", "db", "migrate"], env, logs / "db-migrate.log"
        ) as p:
            try:
                code = p.wait(MIGRATE_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
        if code != 0:
            print(f"airflow db migrate failed ({code=}); last lines of {logs / 'db-migrate.log'}:")
            print(_tail(logs / "db-migrate.log"))
            return 1

        campaign = {"country": COUNTRY}
        budget = {
            "count": 3,
            "max_monthly_cost": "3.00",
            "monthly_budget": "10.00",
            "sip_uri": "sip:campaign-1@pbx.example.com",
        }
        steps = [
            Step(
                "nexmo_numbers_basic_verbs",
                {
                    "country": COUNTRY,
                    "number_type": "mobile-lvn",
                    "features": "SMS",
                    "count": 2,
                    "max_monthly_cost": "3.00",
                },
                webhook="basic",
            ),
            Step(
                "nexmo_numbers_weekly_campaign",
                {**campaign, **budget, "export_dir": str(exports)},
                webhook="campaign",
            ),
            Step("nexmo_numbers_inventory_export", {"export_dir": str(exports)}),
            Step("nexmo_numbers_inventory_report"),
            # Armed again with the same name: the same URL, the campaign's marker.
            Step("nexmo_numbers_campaign_release", {**campaign, "max_release": 5}, webhook="campaign"),
        ]
        print(
            f"Running {len(steps)} example DAGs with dag.test() (one Airflow process, in order):", flush=True
        )
        run_steps(steps, sb.url, env, logs)

        stats, owned = sb.admin.stats(), sb.admin.owned()
        print()
        print(summary(steps, stats, owned, sb.url, workdir, time.monotonic() - t0, clean))
    return 0 if all(step.ok for step in steps) else 1


# -- the summary ---------------------------------------------------------------------------------------------


def _eur(value: Any) -> str:
    return "EUR ?" if value in (None, "") else f"EUR {value}"


def _nums(items: list[dict[str, Any]], cost_key: str | None = "cost") -> str:
    if not items:
        return "none"
    parts = [
        f"{n['msisdn']} ({_eur(n.get(cost_key))}/month)" if cost_key else str(n["msisdn"]) for n in items
    ]
    return ", ".join(parts)


def _waited(wait: dict[str, Any] | None) -> str:
    wait = wait or {}
    if wait.get("attempts") == 1:
        return f"webhook {wait.get('url', '?')}: already answering at the first attempt"
    return f"waited for the webhook {wait.get('url', '?')}: ready after {wait.get('attempts', '?')} attempts"


def _describe(step: Step) -> list[str]:
    x = step.result.get("xcom", {})
    conf = step.conf
    if step.dag_id == "nexmo_numbers_basic_verbs":
        found, bought = x.get("search", []), x.get("buy", [])
        return [
            f"searched {conf['country']} {conf['number_type']} numbers with {conf['features']} at most "
            f"EUR {conf['max_monthly_cost']}/month: {len(found)} found (limit {conf['count']})",
            f"bought {_nums(bought)}",
            _waited(x.get("wait_for_webhook")),
            f"configured {len(x.get('point_at_webhook', []))} number(s): inbound SMS -> that webhook",
            f"listed {len(x.get('list_owned', []))} owned {conf['country']} number(s); "
            f"cancelled {_nums(x.get('cancel', []), None)}",
        ]
    if step.dag_id == "nexmo_numbers_weekly_campaign":
        ensure, export = x.get("ensure_numbers") or {}, x.get("export_inventory") or {}
        plan = ensure.get("plan") or {}
        applied = ensure.get("applied") or {}
        counts = ", ".join(f"{k} {len(plan.get(k) or [])}" for k in ("keep", "reconfigure", "adopt", "buy"))
        return [
            _waited(x.get("wait_for_campaign_webhook")),
            f"plan for {conf['count']} {conf['country']} numbers: {counts}; monthly cost "
            f"{_eur(ensure.get('monthly_cost'))} (budget EUR {conf['monthly_budget']}, "
            f"at most EUR {conf['max_monthly_cost']} per number)",
            f"bought {_nums(applied.get('bought') or [], 'monthly_cost')}",
            f"configured {len(ensure.get('msisdns') or [])} number(s): inbound SMS -> the campaign webhook, "
            f"voice -> {conf.get('sip_uri', 'the SIP URI')}; verified: {ensure.get('verified')}",
            f"exported {export.get('rows')} rows -> {export.get('path')}",
        ]
    if step.dag_id == "nexmo_numbers_inventory_export":
        sql, parquet = x.get("export_to_sql") or {}, x.get("export_to_parquet") or {}
        return [
            f"exported {sql.get('rows')} rows -> SQL table {sql.get('table')} "
            f"(connection nexmo_numbers_warehouse, snapshot {sql.get('snapshot_id')})",
            f"exported {parquet.get('rows')} rows -> {parquet.get('path')}",
        ]
    if step.dag_id == "nexmo_numbers_inventory_report":
        report = x.get("estimate_monthly_cost") or []
        lines = [
            "numbers per country, monthly cost estimated from current offers (the listing has no price):"
        ]
        lines.append(f"  {'COUNTRY':8}{'TYPE':14}{'NUMBERS':>8}{'EST. EUR/MONTH':>16}")
        lines += [
            f"  {r['country']:8}{r['type']:14}{r['numbers']:>8}{r.get('est_eur_per_month') or '?':>16}"
            for r in report
        ]
        return lines
    if step.dag_id == "nexmo_numbers_campaign_release":
        plan, release = x.get("plan_release") or {}, x.get("release") or {}
        return [
            f"dry run: would release {_nums(plan.get('would_release') or [], None)} "
            f"(cap {conf.get('max_release')})",
            f"released {_nums(release.get('released') or [], None)}",
        ]
    return []


def summary(
    steps: list[Step],
    stats: dict[str, Any],
    owned: list[dict[str, Any]],
    url: str,
    workdir: Path,
    seconds: float,
    clean: bool = False,
) -> str:
    ok = sum(step.ok for step in steps)
    lines = [f"=== Nexmo Numbers demo: {ok}/{len(steps)} DAG runs succeeded against the sandbox at {url} ==="]
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step.dag_id}: {step.result.get('state', 'not run')} ({step.seconds:.1f} s)")
        if step.ok:
            lines += [f"   {line}" for line in _describe(step)]
    per_country: dict[str, int] = {}
    for number in owned:
        per_country[number["country"]] = per_country.get(number["country"], 0) + 1
    now = ", ".join(f"{c} {n}" for c, n in sorted(per_country.items())) or "none"
    before = "as before the demo" if per_country == PRE_OWNED else f"before the demo: {PRE_OWNED}"
    lines.append(
        f"Sandbox: {stats.get('api_requests')} API requests, {stats.get('tokens_issued')} token(s) issued, "
        f"{sum(stats.get('purchases', {}).values())} purchases, "
        f"{sum(stats.get('updates', {}).values())} updates, "
        f"{sum(stats.get('cancellations', {}).values())} cancellations; "
        f"the account owns {len(owned)} numbers ({now}), {before}"
    )
    lines.append(f"Logs, exports and the Airflow home: {workdir}{' (deleted: --clean)' if clean else ''}")
    lines.append(f"Total {seconds:.0f} s; {'all runs succeeded' if ok == len(steps) else 'FAILED'}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="delete the temporary directory at the end")
    parser.add_argument("--run-dags", nargs=2, type=Path, help=argparse.SUPPRESS)  # child: plan, progress
    args = parser.parse_args(argv)
    if args.run_dags:
        return run_dags(*args.run_dags)

    # A plain `kill` (or a test's timeout) must still run the clean-up below, like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="nexmo-numbers-demo-"))
    try:
        return demo(workdir, args.clean)
    except KeyboardInterrupt:
        print("\ninterrupted; everything the demo started has been stopped")
        return 130
    finally:
        if args.clean:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
