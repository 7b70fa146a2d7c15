"""The ledger: what this provider bought, claimed, released, and which campaign holds what.

Terraform keeps state for infrastructure; the ledger is that state for phone numbers. It lives in a SQL
database shared by every worker (PostgreSQL on a cluster, a SQLite file under ``AIRFLOW_HOME`` on one
machine), so that concurrent tasks never buy the same number twice or take each other's numbers.

- `core`: the `Ledger` (schema, claims, purchases, releases, campaign leases, reports) over any DB-API
  connection factory; no Airflow.
- `sqlite`: a SQLite connection that is safe across the processes of one machine (WAL, busy timeout,
  ``BEGIN IMMEDIATE``).
- `airflow`: resolves the Airflow connection (``nexmo_numbers_ledger`` by default), the executor check and
  the task's owner key.

Nothing is imported here, so that importing one part does not pull in the others.
"""
