"""The campaign domain, free of Airflow: which numbers a campaign holds (`selector`), what it would do
(`plan`), and how it buys safely (`purchasing`). The operators in ``operators/`` are thin shells around it.

Nothing is imported here so that importing one module does not pull in the others.
"""
