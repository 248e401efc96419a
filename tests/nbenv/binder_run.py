"""Run inside the Binder-like venv (by tests/nbenv/test_binder.py, under `binder/start`):
execute each notebook given on the command line with nbclient, as Run All does, after a
first cell that reports the kernel's own environment. Prints one JSON line per notebook:
{"notebook", "cells", "errors": [...], "kernel": {...}, "seconds"}; exit 0 even on errors
(the test judges). Uses only what the venv has: nbclient, nbformat and their dependencies.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CHECK = ("import os, sys, json\n"
         "print('KERNEL ' + json.dumps({'prefix': sys.prefix,"
         " 'sandbox': os.environ.get('GROKVID_SANDBOX'),"
         " 'time_scale': os.environ.get('GROKVID_TIME_SCALE')}))")


def run(path: str) -> dict[str, object]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CHECK))
    cwd = tempfile.mkdtemp(prefix="binder-nb-")
    t0 = time.monotonic()
    failure = None
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": cwd}}).execute()
    except CellExecutionError as exc:  # the error output is in the cell, collected below
        failure = str(exc).strip().splitlines()[-1][:300]
    errors = [f"cell {i}: {o['ename']}: {o['evalue']}"
              for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if failure and not errors:
        errors.append(failure)
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "".join(o.get("text", "") for o in code[0].outputs)
    kernel = json.loads(text.split("KERNEL ", 1)[1]) if "KERNEL " in text else {}
    return {"notebook": path, "cells": len(code) - 1,
            "executed": sum(c.get("execution_count") is not None for c in code[1:]),
            "errors": errors, "kernel": kernel, "seconds": round(time.monotonic() - t0, 1)}


if __name__ == "__main__":
    for notebook in sys.argv[1:]:
        print("RESULT " + json.dumps(run(notebook)), flush=True)
