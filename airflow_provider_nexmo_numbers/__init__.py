"""Apache Airflow provider for the Nexmo (Vonage) Phone Numbers API, as sold through the KPN API Store.

Kept empty on purpose: DAG files import operators from their own modules on every parse, and this package must
not drag the client, pydantic models or the sandbox along with it.
"""

__version__ = "0.1.0"
