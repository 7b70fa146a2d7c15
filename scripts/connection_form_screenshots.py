"""Screenshots of the `nexmo_numbers` connection form in a real Airflow UI, and a check of what it saves.

Starts `airflow api-server` (temporary AIRFLOW_HOME, SQLite, every user an admin) on a free port, opens the
"Add connection" form in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by selenium),
picks the connection type, takes a screenshot, saves the form with only login and password filled in, and
reads the connection back with `airflow connections get`: the extras must hold no default the user did not
set, and no field may be a multi-line box. Then the edit form of a connection that has extras set.

    apt-get install chromium chromium-driver && pip install selenium
    .venv/bin/python scripts/connection_form_screenshots.py [--out docs]

Exits 0 when the checks pass, 1 when they fail, 2 when a tool is missing. Not part of `make test`: it needs a
browser, which CI machines do not have.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONN_TYPE = "nexmo_numbers"
START_TIMEOUT = 120.0
EXTRA_FIELDS = "//button[contains(., 'Extra Fields') and not(contains(., 'JSON'))]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow(env: dict[str, str], *args: str) -> str:
    cli = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=300, check=True)
    return done.stdout


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"airflow api-server exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"airflow api-server not healthy at {url} within {timeout:.0f} s")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1700"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def wait_for(driver, predicate, timeout: float = 30.0, what: str = "the page"):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        lambda d: predicate(d), message=f"timed out waiting for {what}"
    )


def by_xpath(driver, xpath: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.XPATH, xpath)


def form_fields(driver) -> dict[str, dict[str, str]]:
    """Every input/textarea/select of the form: its name/id, tag, value and placeholder."""
    script = """
    return Array.from(document.querySelectorAll('input, textarea, select')).map(e => ({
        key: e.name || e.id || '', tag: e.tagName.toLowerCase(), type: e.type || '',
        value: e.type === 'checkbox' ? (e.checked ? 'checked' : '') : (e.value || ''),
        placeholder: e.placeholder || ''}));
    """
    return {f["key"]: f for f in driver.execute_script(script) if f["key"]}


def choose_type(driver) -> None:
    """Open the connection type select and pick ours (the UI shows the hook name)."""
    from selenium.webdriver.common.keys import Keys

    box = wait_for(driver, lambda d: by_xpath(d, "//input[contains(@id, 'conn_type') or @role='combobox']"),
                   what="the connection type select")[0]  # fmt: skip
    box.click()
    box.send_keys("Nexmo")
    time.sleep(1)
    box.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: "element_timeout" in form_fields(d) or "timeout" in form_fields(d),
             what="the extra fields of nexmo_numbers")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for the screenshots (default: docs)")
    args = parser.parse_args()
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("selenium is not installed: pip install selenium", file=sys.stderr)
        return 2
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("Chromium is not installed: apt-get install chromium chromium-driver", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="nexmo-form-"))
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    failures: list[str] = []
    airflow(env, "db", "migrate")
    airflow(env, "connections", "add", "nexmo_set", "--conn-json", json.dumps({
        "conn_type": CONN_TYPE, "login": "my-client", "password": "my-secret",
        "extra": {"api": "kpn", "oauth_url": "https://auth.example.com/token", "timeout": "5,60"},
    }))  # fmt: skip
    shown = json.loads(airflow(env, "connections", "get", "nexmo_set", "-o", "json"))[0]
    if "auth.example.com" not in shown["extra_dejson"].get("oauth_url", ""):
        failures.append(f"the CLI masks the token endpoint: {shown['extra_dejson']}")

    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("airflow")),
            "api-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    driver = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base + "/api/v2/monitor/health", server, START_TIMEOUT)
        driver = browser()
        driver.get(base + "/connections")
        add = wait_for(driver, lambda d: by_xpath(d, "//button[contains(., 'Add Connection')]"),
                       what="the Add Connection button")[0]  # fmt: skip
        add.click()
        wait_for(driver, lambda d: "connection_id" in form_fields(d), what="the add form")
        choose_type(driver)
        # only the id, login and password: nothing else is set by the user
        for key, value in (("connection_id", "nexmo_new"), ("login", "id"), ("password", "pw")):
            by_xpath(driver, f"//input[@name='{key}' or @id='{key}']")[0].send_keys(value)
        for section in by_xpath(driver, EXTRA_FIELDS):
            section.click()  # open the extra fields
        time.sleep(1)
        fields = form_fields(driver)
        driver.save_screenshot(str(out / "connection-form-add.png"))
        extras = {k: f for k, f in fields.items() if k.startswith("element_")}
        print("add form fields:", json.dumps(extras, indent=1))
        for key, field in extras.items():
            if field["tag"] == "textarea":
                failures.append(f"{key} is a multi-line box")
            if field["value"]:
                failures.append(f"{key} is pre-filled with {field['value']!r}")
        save = by_xpath(driver, "//button[@type='submit' or contains(., 'Save')]")
        if save:
            save[-1].click()
            time.sleep(3)
            try:
                saved = json.loads(airflow(env, "connections", "get", "nexmo_new", "-o", "json"))[0]
            except subprocess.CalledProcessError:
                failures.append("the add form did not save a connection")
            else:
                written = {k: v for k, v in (saved.get("extra_dejson") or {}).items() if v not in (None, "")}
                print("saved extras:", written)
                if written:
                    failures.append(f"the form saved extras the user did not set: {written}")
        driver.get(base + "/connections")
        row = wait_for(driver, lambda d: by_xpath(d, "//*[contains(text(), 'nexmo_set')]"),
                       what="the nexmo_set row")[0]  # fmt: skip
        edit = by_xpath(row, "./ancestor::tr//button[contains(@aria-label, 'Edit') or @title='Edit']")
        if edit:
            edit[0].click()
            wait_for(driver, lambda d: any("auth.example.com" in f["value"] for f in form_fields(d).values()),
                     what="the edit form showing oauth_url")  # fmt: skip
            for section in by_xpath(
                driver, "//button[contains(., 'Extra Fields') and not(contains(., 'JSON'))]"
            ):
                section.click()
            time.sleep(1)
            driver.save_screenshot(str(out / "connection-form-edit.png"))
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)
    for failure in failures:
        print("FAIL:", failure)
    print(f"screenshots in {out}/connection-form-*.png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
