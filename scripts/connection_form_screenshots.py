"""Screenshots of the nexmo_numbers connection form (add and edit) in the real Airflow UI, headless Chromium.

    .venv/bin/python scripts/connection_form_screenshots.py --out /tmp/shots    # add.png, edit.png
    .venv/bin/python scripts/connection_form_screenshots.py --out docs/images   # refresh the docs' picture

What a user sees is what the provider declares (`get_provider_info`: conn-fields, placeholders, labels) as
this Airflow version's UI renders it; no unit test can show that. The script builds a throw-away Airflow
(temporary AIRFLOW_HOME, SQLite, one connection `nexmo_numbers_default` of type `nexmo_numbers`), starts
`airflow api-server` on a free loopback port (simple auth manager, everyone admin), drives Debian's
Chromium through the DevTools protocol (fresh profile, no network beyond loopback), opens the add form with
the type chosen and the edit form of the existing connection, and saves a PNG of each. Every process it
starts is stopped by its pid; every wait is bounded. Needs `chromium` (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# The repository's root, for the helpers shared with tests/deployment (this is a development tool).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.deployment.stack import free_port, wait_until

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
CONN_TYPE = "nexmo_numbers"
CONN_ID = "nexmo_numbers_default"


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """`wait_until` of the deployment tests, with failures of `condition` counting as "not yet"."""

    def quietly() -> Any:
        try:
            return condition()
        except Exception:
            return None

    return wait_until(quietly, timeout=timeout, what=what, every=0.5)


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)


class Page:
    """The smallest DevTools-protocol client this needs: send a command, wait for its answer."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._ws = connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=30).__enter__()
        self._id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
        raise TimeoutError(method)

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_js(self, expression: str, timeout: float, what: str) -> Any:
        return wait_for(lambda: self.js(expression), timeout, what)

    def type_text(self, text: str) -> None:
        self.send("Input.insertText", text=text)

    def press(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def click_at(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def expand_extra_fields(self) -> None:
        where = self.js(EXTRA_FIELDS_HEADER)
        if where:
            self.click_at(*where)
            time.sleep(1.5)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._ws.close()


# JavaScript snippets: find elements by their visible text, as a user does.
CLICK_BY_TEXT = """(() => {{
  const want = {text!r};
  const nodes = [...document.querySelectorAll('button, [role=button], a')];
  const hit = nodes.find(n => (n.innerText || n.getAttribute('aria-label') || '').trim() === want)
           || nodes.find(n => (n.getAttribute('aria-label') || '').trim() === want);
  if (!hit) return false;
  hit.scrollIntoView(); hit.click(); return true;
}})()"""
FOCUS_INPUT = """(() => {{
  const dialog = document.querySelector('[role=dialog]') || document;
  const input = dialog.querySelectorAll('input:not([type=hidden])')[{index}];
  if (!input) return false;
  input.focus(); input.click(); return true;
}})()"""
# Where the collapsed "Extra Fields" section's header is, for a real mouse click (a synthetic click() does
# not always reach the UI library's handlers).
EXTRA_FIELDS_HEADER = """(() => {
  const dialog = document.querySelector('[role=dialog]') || document;
  const hit = [...dialog.querySelectorAll('button, [data-part=item-trigger]')]
    .find(b => (b.textContent || '').trim().toLowerCase() === 'extra fields');
  if (!hit || hit.getAttribute('aria-expanded') === 'true') return null;
  hit.scrollIntoView({block: 'center'});
  const r = hit.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2];
})()"""
DIALOG_TEXT = "(() => (document.querySelector('[role=dialog]') || {}).innerText || '')()"


def take(page: Page, base: str, out: Path) -> list[Path]:
    page.send("Page.navigate", url=f"{base}/connections")
    page.wait_js(CLICK_BY_TEXT.format(text="Add Connection"), 90, "the connections page's Add button")
    page.wait_js(FOCUS_INPUT.format(index=0), 30, "the connection-id field")
    page.type_text("nexmo_numbers_example")
    page.wait_js(FOCUS_INPUT.format(index=1), 30, "the connection-type select")
    page.type_text("Nexmo")
    time.sleep(1.0)
    page.press("Enter", 13)
    page.wait_js(f"{DIALOG_TEXT}.includes('Extra Fields')", 30, "the nexmo_numbers fields")
    page.expand_extra_fields()
    shots = [out / "connection-form-add.png"]
    page.screenshot(shots[-1])

    page.send("Page.navigate", url=f"{base}/connections")
    page.wait_js(f"document.body.innerText.includes({CONN_ID!r})", 90, "the connection list")
    page.wait_js(CLICK_BY_TEXT.format(text="Edit Connection"), 30, "the connection's Edit button")
    page.wait_js(f"{DIALOG_TEXT}.includes('Extra Fields')", 30, "the edit form")
    page.expand_extra_fields()
    shots.append(out / "connection-form-edit.png")
    page.screenshot(shots[-1])
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))

    with tempfile.TemporaryDirectory(prefix="nexmo-form-shots-") as tmp:
        home = Path(tmp)
        api_port, debug_port = free_port(), free_port()
        base = f"http://127.0.0.1:{api_port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__API__BASE_URL": base,
        }
        run = {"env": env, "check": True, "capture_output": True, "timeout": 600}
        subprocess.run([airflow, "db", "migrate"], **run)
        extra = json.dumps({"timeout": 30})
        subprocess.run(
            [airflow, "connections", "add", CONN_ID, "--conn-type", CONN_TYPE, "--conn-login", "my-client-id",
             "--conn-password", "not-shown", "--conn-extra", extra],
            **run,
        )  # fmt: skip
        server = [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)]
        with process(server, env, home / "api-server.out"):
            wait_for(lambda: http_json(f"{base}/api/v2/monitor/health"), 240, "the api-server")
            browser = [
                args.chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={home / 'chromium-profile'}",
                f"--remote-debugging-port={debug_port}",
                f"--window-size={args.width},{args.height}",
                "about:blank",
            ]
            with process(browser, env, home / "chromium.out"):
                targets = wait_for(
                    lambda: [
                        t for t in http_json(f"http://127.0.0.1:{debug_port}/json") if t["type"] == "page"
                    ],
                    60,
                    "Chromium's DevTools endpoint",
                )
                page = Page(targets[0]["webSocketDebuggerUrl"])
                try:
                    page.send("Page.enable")
                    try:
                        shots = take(page, base, args.out)
                    except TimeoutError:
                        page.screenshot(args.out / "failed.png")  # where it stopped, to see why
                        print(page.js(DIALOG_TEXT) or page.js("document.body.innerText"), file=sys.stderr)
                        raise
                    for shot in shots:
                        print(shot)
                finally:
                    page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
