"""Binder cannot silently break: build a fresh virtual environment from `binder/` alone, the
way repo2docker does (runtime.txt's Python, `pip install -r binder/requirements.txt`, then
`binder/postBuild` from the repository root), and run every notebook in notebooks/ through
`binder/start` (which must turn the sandbox on), asserting every cell ran without an error.

The venv is clean (no --system-site-packages): a requirement missing from
binder/requirements.txt fails here. The only extra packages are what repo2docker's own base
environment provides to run notebooks (ipykernel, and nbclient to execute them headless);
they are installed *after* postBuild and pull in none of grokvid_nb's runtime dependencies
(checked below). pip's wheel cache is used: only the environment is fresh.

It takes about 80 s on 2 cores (venv + requirements ~55 s, the notebooks ~25 s), so it is
marked `longrun`: deselected by default, run by scripts/test.sh (and so by .ci/run) in a
second pass, or by hand with `python -m pytest -m longrun tests/nbenv/test_binder.py`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: what repo2docker's base environment has for running notebooks (not grokvid_nb's needs)
RUNNER = ["ipykernel>=6.29", "nbclient>=0.10"]


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_binder_requirements_cover_the_package_dependencies() -> None:
    """Fast drift check: every runtime dependency in pyproject.toml is in binder/requirements.txt."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    reqs = (BINDER / "requirements.txt").read_text().splitlines()
    assert _requirement_names(deps) - _requirement_names(reqs) == set()


def _clean_env(venv: Path, tmp: Path) -> dict[str, str]:
    """The venv first on PATH, no user Jupyter/IPython state, no keys, no inherited sandbox."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "JPY_", "PYTHON", "GROKVID_", "VIRTUAL_ENV"))
           and not k.endswith("_API_KEY") and k != "XINGCHAO_BASE_URL"}
    env.update({"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                "VIRTUAL_ENV": str(venv), "HOME": str(tmp / "home"),
                "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),
                "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"),
                "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
                "IPYTHONDIR": str(tmp / "ipython"), "GROKVID_HOME": str(tmp / "grokvid"),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                # keep pip's wheel cache (HOME moved): only the environment is fresh
                "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR",
                                                str(Path.home() / ".cache" / "pip"))})
    (tmp / "home").mkdir(exist_ok=True)
    return env


def _run(cmd: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.mark.longrun
@pytest.mark.timeout(900)
def test_every_notebook_runs_in_a_fresh_binder_environment(tmp_path: Path) -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    want = runtime.removeprefix("python-")
    if "%d.%d" % sys.version_info[:2] != want:
        pytest.skip(f"binder/runtime.txt asks for Python {want}; this is {sys.version.split()[0]}")
    assert NOTEBOOKS, "no notebooks to run"

    times: dict[str, float] = {}
    t0 = time.monotonic()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = _clean_env(venv, tmp_path)
    vpy = str(venv / "bin" / "python")
    _run([vpy, "-m", "pip", "install", "-q", "-r", str(BINDER / "requirements.txt")], env, 600)
    times["requirements"] = time.monotonic() - t0
    _run([str(BINDER / "postBuild")], env, 300)   # repo2docker runs it from the repo root
    before = set(_run([vpy, "-m", "pip", "freeze", "--all"], env, 60).stdout.lower().split())
    _run([vpy, "-m", "pip", "install", "-q", *RUNNER], env, 600)
    after = set(_run([vpy, "-m", "pip", "freeze", "--all"], env, 60).stdout.lower().split())
    added = _requirement_names(sorted(after - before))
    deps = _requirement_names((BINDER / "requirements.txt").read_text().splitlines())
    assert added & deps == set(), f"the runner changed grokvid_nb's dependencies: {added & deps}"
    times["environment"] = time.monotonic() - t0
    # the kernel nbclient starts is this venv's own
    _run([vpy, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], env, 120)
    imported = _run([vpy, "-c", "import grokvid_nb; print(grokvid_nb.__file__)"], env, 120)
    assert Path(imported.stdout.strip()).resolve() == ROOT / "grokvid_nb" / "__init__.py"

    t1 = time.monotonic()
    out = _run([str(BINDER / "start"), vpy, str(Path(__file__).with_name("binder_run.py")),
                *map(str, NOTEBOOKS)], env, 900)
    times["notebooks"] = time.monotonic() - t1
    results = [json.loads(line.split(" ", 1)[1]) for line in out.stdout.splitlines()
               if line.startswith("RESULT ")]
    print(f"\n[binder] {', '.join(f'{k} {v:.0f} s' for k, v in times.items())}; " +
          ", ".join(f"{Path(r['notebook']).name} {r['seconds']} s" for r in results))
    assert [Path(r["notebook"]).name for r in results] == [p.name for p in NOTEBOOKS]
    for r in results:
        name = Path(r["notebook"]).name
        assert r["errors"] == [], (name, r["errors"])
        assert r["executed"] == r["cells"] > 0, (name, r)
        assert Path(r["kernel"]["prefix"]).resolve() == venv.resolve(), (name, r["kernel"])
        # binder/start's defaults reached the kernel
        assert (r["kernel"]["sandbox"], r["kernel"]["time_scale"]) == ("1", "0.05"), (name, r)
