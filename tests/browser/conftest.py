"""Fixtures of the JupyterLab end-to-end tests: a real JupyterLab server on loopback, isolated
from the user's Jupyter/IPython/grokvid state, and Debian's Chromium driven by Playwright.

Nothing here reaches the internet: the server is started with every outbound check turned
off (update check, news feed, PyPI extension manager, the announcements plugin) and the
browser context aborts (and records) any request that is not to loopback.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

#: How long the server may take to answer /api/status (a cold start on 2 cores is ~5-10 s).
SERVER_START_TIMEOUT = 90
#: Terminate, then kill after this many seconds.
SERVER_STOP_TIMEOUT = 20

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterLab:
    """A running JupyterLab (or Notebook 7) server: its base URL, token, root directory, log."""

    base_url: str
    token: str
    root: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def lab_url(self, notebook: str) -> str:
        """The URL opening `notebook` (relative to the root) in a fresh default workspace."""
        return f"{self.base_url}/lab/tree/{quote(notebook)}?reset&token={self.token}"

    def notebook_url(self, notebook: str) -> str:
        """Notebook 7's URL opening `notebook` (relative to the root)."""
        return f"{self.base_url}/notebooks/{quote(notebook)}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> Any:
        """Call the REST API (`path` like "/api/contents/x.ipynb"); the JSON answer or None."""
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """Stop every kernel this server runs (frees the CPU between tests)."""
        try:
            for session in self.api("/api/sessions"):
                self.api(f"/api/sessions/{session['id']}", method="DELETE")
        except (OSError, urllib.error.URLError, ValueError):
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def _ensure_venv_kernel(env: dict[str, str]) -> None:
    """The `python3` kernel the server will use must run this venv's Python: a spec inside
    sys.prefix whose interpreter is this venv's (as `scripts/test.sh` installs it)."""
    out = subprocess.run([sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    spec = json.loads(out.stdout)["kernelspecs"].get("python3")
    if spec is not None:
        inside = Path(spec["resource_dir"]).resolve().is_relative_to(Path(sys.prefix).resolve())
        argv0 = (spec.get("spec", {}).get("argv") or [""])[0]
        # a venv's python is a symlink out of the venv: compare the unresolved directory
        ours = argv0 in ("python", "python3") or Path(argv0).parent == Path(sys.executable).parent
        if inside and ours:
            return
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix",
                    "--name", "python3"], env=env, capture_output=True, text=True, timeout=120,
                   check=True)


def _write_isolated_config(config_dir: Path) -> None:
    """Page config switching off the announcements (news) plugin: no toast over the
    notebook, no request for news."""
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps({
        "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True},
    }), encoding="utf-8")


#: this checkout: kernels import its grokvid_nb, whatever is installed editable
ROOT = Path(__file__).resolve().parents[2]

#: no outbound calls from the lab extension: update check, news feed, the PyPI-backed
#: extension manager (passed to Notebook 7 too, which loads the same server extension)
_LAB_OFFLINE = ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.news_url=None", "--LabApp.extension_manager=readonly"]


def serve(base: Path, module: str, app_args: list[str]) -> Iterator[JupyterLab]:
    """Run `python -m <module>` (jupyterlab or notebook) on 127.0.0.1 (random port, random
    token), isolated under `base`; yield it, then stop it and its kernels."""
    root, home = base / "root", base / "grokvid-home"
    dirs = {name: base / name.lower() for name in
            ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
    for path in (root, home, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    _write_isolated_config(dirs["JUPYTER_CONFIG_DIR"])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "JPY_"))}
    env.update({name: str(path) for name, path in dirs.items()})
    env.update({
        "GROKVID_HOME": str(home),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    })
    _ensure_venv_kernel(env)

    port, token = _free_port(), secrets.token_hex(24)
    cmd = [
        sys.executable, "-m", module, "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        # (ServerApp.token is deprecated since jupyter_server 2.0 in favour of this)
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
        *_LAB_OFFLINE, *app_args,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers/CI often run as root
        cmd.append("--allow-root")
    log_path = base / f"{module}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, root, log_path, proc, env)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{module} exited with {proc.returncode}:\n{lab.log_tail()}")
            try:
                with urllib.request.urlopen(f"{lab.base_url}/api/status?token={token}",
                                            timeout=2) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not answer within {SERVER_START_TIMEOUT} s:\n"
                                   f"{lab.log_tail()}")
            time.sleep(0.25)
        yield lab
    finally:
        if proc.poll() is None:
            lab.shutdown_sessions()
            proc.terminate()  # SIGTERM: the server shuts its kernels down
            try:
                proc.wait(SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # the group we started (server + kernels)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """A real JupyterLab server on 127.0.0.1 (random port, random token), stopped afterwards."""
    # lets the tests run JupyterLab commands (run all, save) like galata does
    yield from serve(tmp_path_factory.mktemp("jupyterlab"), "jupyterlab",
                     ["--LabApp.expose_app_in_browser=True"])


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """A real Notebook 7 server (`jupyter notebook`) on 127.0.0.1, stopped afterwards; its
    `lab_url` is replaced by `notebook_url`."""
    yield from serve(tmp_path_factory.mktemp("notebook7"), "notebook",
                     ["--JupyterNotebookApp.expose_app_in_browser=True"])


def artifact_dir(test_name: str) -> Path:
    """Where a test keeps what a person should look at (screenshots): tests/artifacts/<test>/
    (gitignored), or $GROKVID_TEST_ARTIFACTS/<test>/."""
    base = Path(os.environ.get("GROKVID_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    path = base / test_name.replace("/", "_").replace("[", "-").replace("]", "")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page plus what it logged and every non-loopback request it attempted (aborted)."""

    page: Any
    console: list[str]
    blocked: list[str]

    def diagnostics(self) -> str:
        return ("console:\n  " + "\n  ".join(self.console[-40:]) +
                "\nblocked requests:\n  " + "\n  ".join(self.blocked))


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension", "devtools"):
        return True
    return (parts.hostname or "") in _LOOPBACK


def open_tab(chromium: Any, server: JupyterLab, tmp_path: Path,
             viewport: dict[str, int] | None = None) -> Iterator[Tab]:
    """A fresh browser context and page; non-loopback requests are aborted and recorded.
    The server's kernels are shut down afterwards."""
    context = chromium.new_context(viewport=viewport or {"width": 1400, "height": 1000})
    blocked: list[str] = []
    console: list[str] = []

    def abort(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route(lambda url: not _is_loopback(url), abort)
    page = context.new_page()
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    try:
        yield Tab(page, console, blocked)
    finally:
        (tmp_path / "console.log").write_text("\n".join(console), encoding="utf-8")
        context.close()
        server.shutdown_sessions()


@pytest.fixture
def tab(chromium: Any, jupyter_lab: JupyterLab, tmp_path: Path) -> Iterator[Tab]:
    """A fresh page on the JupyterLab server (see `open_tab`)."""
    yield from open_tab(chromium, jupyter_lab, tmp_path)


@pytest.fixture
def nb7_tab(chromium: Any, notebook7: JupyterLab, tmp_path: Path) -> Iterator[Tab]:
    """A fresh page on the Notebook 7 server (see `open_tab`)."""
    yield from open_tab(chromium, notebook7, tmp_path)
