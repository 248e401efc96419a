"""`gv.compare` in a real ipykernel: the estimate and a live HTML table (updated in place
through a display id), then `gv.gallery` as inline HTML video."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

CELLS = [
    "import os\n"
    "os.environ['GROKVID_TIME_SCALE'] = '0.02'\n"
    "import grokvid_nb as gv\n"
    "sb = gv.use_sandbox(time_scale=0.02, scale_rate_limits=True, seed=1)\n"
    "df = gv.compare('a lakeside <at> sunset', providers=['xai', 'apixo'], repeats=2,\n"
    "                duration=6, resolution='480p')\n"
    "print('ROWS', len(df), sorted(set(df.status)))",
    "gv.gallery(df)",
]


def test_compare_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))  # inherited by the kernel
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, second = nb.cells[0].outputs, nb.cells[1].outputs
    html = [o["data"]["text/html"] for o in first if "text/html" in o.get("data", {})]
    assert any("grokvid-compare-estimate" in h and "estimated $0.78" in h for h in html)
    tables = [h for h in html if "grokvid-compare-progress" in h]
    assert len(tables) == 1, "one live table, updated in place"
    assert tables[0].count(">succeeded<") == 4 and "4/4 done" in tables[0]
    assert "ROWS 4 ['succeeded']" in "".join(o.get("text", "") for o in first)
    gallery = second[0]["data"]["text/html"]
    assert gallery.count('<video src="data:video/mp4;base64,') == 4
