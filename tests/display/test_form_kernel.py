"""notebooks/03_form.ipynb run headless (nbclient, a real kernel): the saved form output counts
the result and shows its video, so a notebook saved after a headless run is not stale."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03_form.ipynb"


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_headless_run_of_the_form_notebook_saves_the_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel imports this checkout's grokvid_nb, whatever is installed
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {"GROKVID_HOME": str(tmp_path / "home"), "PYTHONPATH": path}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # inherited by the kernel process
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    form_outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                    if o.get("output_type") == "display_data"
                    and "gv.form()" in str(o.get("data", {}).get("text/plain", ""))]
    assert len(form_outputs) == 1, form_outputs
    data = form_outputs[0]["data"]
    assert data["text/plain"].startswith("gv.form() · 1 result(s) this session"), data["text/plain"]
    assert "- succeeded: xingchao · grok_video3_max" in data["text/plain"]
    assert "<video" in data["text/html"] and "No videos generated" not in data["text/html"]
