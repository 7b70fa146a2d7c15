"""Webhook readiness, shared by the sensor (sensors/) and the trigger (triggers/), which both import it.

`config` validates the arguments, `outcome` classifies one attempt (ready / not ready yet / can never be
ready), `probe` makes an attempt over HTTP within one deadline, `progress` decides what to log and when to
give up. No Airflow imports: the sensor stays cheap to parse and the rules are the same in every mode.
"""
