"""Drive a real kernel the two ways a notebook front end runs "Run All".

* `run_nbclient`: nbclient's Run All, one `execute_request` after the previous cell replied.
* `run_queued`: JupyterLab's Run All, every `execute_request` sent at once (jupyter_client,
  `stop_on_error=True`), each cell's stream/error output collected by its parent message id.

Both return one `CellRun` per cell. Used by the nest_asyncio and Binder tests.
"""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient


@dataclass
class CellRun:
    """What one cell did: its printed text, its error (ename: evalue) and whether it replied."""

    text: str = ""
    errors: list[str] = field(default_factory=list)
    replied: bool = False
    status: str | None = None


def run_nbclient(sources: list[str], cwd: Path, *, timeout: int = 120,
                 kernel_name: str = "python3", env: dict[str, str] | None = None) -> list[CellRun]:
    """Run the cells with nbclient (it raises `CellExecutionError` on the first error)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(**({"env": env} if env is not None else {}))
    runs = []
    for cell in nb.cells:
        run = CellRun(replied=cell.get("execution_count") is not None, status="ok")
        for out in cell.outputs:
            if out.output_type == "stream":
                run.text += out.text
            elif out.output_type == "error":
                run.errors.append(f"{out.ename}: {out.evalue}")
        runs.append(run)
    return runs


def run_queued(sources: list[str], cwd: Path, *, timeout: float = 120,
               kernel_name: str = "python3", env: dict[str, str] | None = None) -> list[CellRun]:
    """Send every cell at once, as JupyterLab's Run All does, and collect until every cell
    replied or `timeout` seconds passed (a cell that never replies stays `replied=False`)."""
    from jupyter_client.manager import start_new_kernel

    kwargs: dict[str, object] = {"cwd": str(cwd)}
    if env is not None:
        kwargs["env"] = env
    km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=90, **kwargs)
    try:
        ids = [kc.execute(src, stop_on_error=True) for src in sources]
        runs = {msg_id: CellRun() for msg_id in ids}
        deadline = time.monotonic() + timeout
        idle: set[str] = set()
        while time.monotonic() < deadline and not (
                all(r.replied for r in runs.values()) and idle >= set(ids)):
            try:
                msg = kc.get_iopub_msg(timeout=0.05)
                parent = msg["parent_header"].get("msg_id")
                run = runs.get(parent)
                if run is not None:
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "stream":
                        run.text += content["text"]
                    elif kind == "error":
                        run.errors.append(f"{content['ename']}: {content['evalue']}")
                    elif kind == "status" and content["execution_state"] == "idle":
                        idle.add(parent)
            except queue.Empty:
                pass
            try:
                reply = kc.get_shell_msg(timeout=0.05)
                run = runs.get(reply["parent_header"].get("msg_id"))
                if run is not None:
                    run.replied = True
                    run.status = reply["content"].get("status")
            except queue.Empty:
                pass
        return [runs[i] for i in ids]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


#: this checkout (the kernels must import its grokvid_nb, whatever is installed editable)
ROOT = Path(__file__).resolve().parents[2]


def kernel_env(**extra: str) -> dict[str, str]:
    """This process's environment (GROKVID_HOME, no keys: see the root conftest) with this
    checkout first on PYTHONPATH, plus `extra`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env
