#!/usr/bin/env bash
# Real-kernel version matrix for grokvid_nb: Python x ipykernel major, each cell in its own venv.
#
# Set-up (two cells at a time): each cell PY:MAJOR gets .matrix/<PY>-ipykernel<MAJOR>/ (reused
# when it still has this Python, ipykernel MAJOR.x and this checkout), with this repo installed
# editable plus "ipykernel>=6.29,<7" or "ipykernel>=7,<8", nbclient, nbformat, pytest,
# pytest-timeout, pytest-asyncio and nest_asyncio, and that venv's kernel spec
# (`ipykernel install --sys-prefix --name python3`). Then, one cell after another, with only
# that venv's share/jupyter on JUPYTER_PATH and that venv's Python:
#   1. nbclient runs a kernel check cell + notebooks/01_quickstart.ipynb: the kernel's own
#      sys.version, ipykernel.__version__ and sys.prefix must match the cell, or it FAILs;
#   2. pytest tests/engine/test_kernel.py tests/compare/test_compare_kernel.py and
#      tests/nbenv/test_nest_asyncio.py (a user's `nest_asyncio.apply()` first, then generate,
#      await, compare and the form, by nbclient and queued; CI runs it too, on the installed
#      ipykernel plus one venv of the other major);
#   3. evidence only, never a failure: a notebook whose first cell is `import nest_asyncio,
#      asyncio; nest_asyncio.apply(); asyncio.run(asyncio.sleep(0))` (nest_asyncio 1.6.0 from a
#      --target overlay on PYTHONPATH, so the venv stays as it is) and whose later cells print,
#      run by nbclient (one cell at a time) and queued the way JupyterLab's Run All sends it
#      (every execute_request at once; KERNEL_MATRIX_REPEAT times, as it is a race); the same
#      with asyncio.sleep(1) (a coroutine that takes a while); and, as the control, the queued
#      notebook with grokvid_nb's own mechanism (grokvid_nb._loop.run_sync) in cell 1.
# Prints one summary line per cell (python, ipykernel, PASS/FAIL/SKIP, seconds) and the EVIDENCE
# lines. A Python that isn't installed is a SKIP. Exit 1 if any cell FAILs, or if none could run.
#
# Usage: scripts/kernel-matrix.sh [PY:MAJOR ...]     e.g. scripts/kernel-matrix.sh 3.13:6 3.13:7
#   KERNEL_MATRIX="3.11:6 3.12:7"  cells (default: 3.11:6 3.12:7 3.13:6 3.13:7; the full 3 x 2
#                                  is KERNEL_MATRIX="3.11:6 3.11:7 3.12:6 3.12:7 3.13:6 3.13:7")
#   KERNEL_MATRIX_FRESH=1          recreate every venv
#   KERNEL_MATRIX_JOBS=2           venvs set up at once (tests always run one cell at a time)
#   KERNEL_MATRIX_EVIDENCE=0       skip the nest_asyncio evidence
#   KERNEL_MATRIX_REPEAT=3         queued runs of the nest_asyncio notebook per cell (it is a race)
#   KERNEL_MATRIX_DIR=...          where the venvs live (default: <repo>/.matrix, gitignored)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MATRIX_DIR="${KERNEL_MATRIX_DIR:-$ROOT/.matrix}"
FRESH="${KERNEL_MATRIX_FRESH:-0}"
JOBS="${KERNEL_MATRIX_JOBS:-2}"
EVIDENCE="${KERNEL_MATRIX_EVIDENCE:-1}"
REPEAT="${KERNEL_MATRIX_REPEAT:-3}"
NEST_ASYNCIO_PIN="nest_asyncio==1.6.0"
PKGS="nbclient nbformat pytest pytest-timeout pytest-asyncio nest_asyncio"
if [ "$#" -gt 0 ]; then CELLS="$*"; else CELLS="${KERNEL_MATRIX:-3.11:6 3.12:7 3.13:6 3.13:7}"; fi

mkdir -p "$MATRIX_DIR"
MATRIX_DIR="$(cd "$MATRIX_DIR" && pwd -P)"
exec 9>"$MATRIX_DIR/.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  echo "!! another kernel-matrix run holds $MATRIX_DIR/.lock" >&2
  exit 1
fi

# A clean, predictable environment for every venv and for the kernels they start.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV JUPYTER_PATH JUPYTER_CONFIG_DIR JUPYTER_DATA_DIR \
      JUPYTER_PREFER_ENV_PATH
for var in XAI_API_KEY APIXO_API_KEY PIXAZO_API_KEY XINGCHAO_API_KEY APIINONE_API_KEY \
           XINGCHAO_BASE_URL GROKVID_SANDBOX GROKVID_TIME_SCALE; do unset "$var"; done
export PIP_DISABLE_PIP_VERSION_CHECK=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kernel-matrix.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export IPYTHONDIR="$WORK/ipython"   # no user profile or startup file reaches the kernels
DRIVER="$WORK/driver.py"

cat >"$DRIVER" <<'PY'
"""kernel-matrix.sh's helper; runs with the matrix venv's own Python."""
import json, os, sys, tempfile, time

import nbformat
from nbclient import NotebookClient

CHECK = ("import sys, json, ipykernel\n"
         "print('KERNEL-CHECK ' + json.dumps({'version': sys.version.split()[0],"
         " 'ipykernel': ipykernel.__version__, 'prefix': sys.prefix,"
         " 'executable': sys.executable}))")


def notebook(venv, want_py, want_major, path):
    """The kernel check cell, then the notebook's own cells, by nbclient (Run All)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CHECK))
    cwd = tempfile.mkdtemp(prefix="nb-")  # the kernel's cwd: nothing lands in the work tree
    t0 = time.monotonic()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": cwd}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    info = json.loads(text.split("KERNEL-CHECK ", 1)[1])
    print(f"KERNEL python={info['version']} ipykernel={info['ipykernel']} "
          f"executable={info['executable']}")
    problems = []
    if info["version"].split(".")[:2] != want_py.split("."):
        problems.append(f"kernel Python {info['version']} is not {want_py}")
    if info["ipykernel"].split(".")[0] != want_major:
        problems.append(f"kernel ipykernel {info['ipykernel']} is not {want_major}.x")
    if os.path.realpath(info["prefix"]) != os.path.realpath(venv):
        problems.append(f"kernel sys.prefix {info['prefix']} is not the venv {venv}")
    if problems:
        print("KERNEL-MISMATCH " + "; ".join(problems))
        sys.exit(3)
    print(f"NOTEBOOK {os.path.basename(path)}: all {len(nb.cells) - 1} cells ran "
          f"in {time.monotonic() - t0:.1f}s")


NEST = ("import nest_asyncio, asyncio\n"
        "nest_asyncio.apply()\n"
        "asyncio.run(asyncio.sleep(0))\n"
        "print('CELL1 done')")
NEST_1S = NEST.replace("asyncio.sleep(0)", "asyncio.sleep(1)")  # a coroutine that takes a while
OURS_1S = ("import asyncio\n"
           "from grokvid_nb._loop import run_sync\n"
           "run_sync(asyncio.sleep(1))\n"
           "print('CELL1 done')")
LATER = ["print('CELL2 ran')",
         "import sys, ipykernel, importlib.metadata as md\n"
         "try:\n    nest = md.version('nest_asyncio')\nexcept md.PackageNotFoundError:\n"
         "    nest = '-'\n"
         "print('CELL3 ran', sys.version.split()[0], ipykernel.__version__, nest)"]


def _first_error(text):
    for line in text.splitlines():
        if "Error" in line and ":" in line:
            return line.strip()[:150]
    return ""


def run_nbclient(first):
    """nbclient's Run All: one execute_request, its reply, then the next cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in [first, *LATER]]
    err = ""
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    except Exception as exc:  # evidence only: report it, don't raise
        err = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:150]}"
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    return {"ran": [i + 1 for i, t in enumerate(texts) if f"CELL{i + 1} " in t],
            "n": len(nb.cells), "lost": [], "note": _first_error("".join(texts)) or err,
            "responsive": None, "texts": texts}


def run_queued(first):
    """JupyterLab's Run All: every execute_request is sent at once (stop_on_error=True)."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        ids = [kc.execute(c, stop_on_error=True) for c in [first, *LATER]]
        replies, started, text = {}, set(), {i: "" for i in ids}
        deadline, last_seen = time.monotonic() + 90, time.monotonic()
        while time.monotonic() < deadline and len(replies) < len(ids):
            while True:
                try:
                    m = kc.get_iopub_msg(timeout=0.05)
                except Exception:
                    break
                pid = m["parent_header"].get("msg_id")
                if pid not in text:
                    continue
                last_seen = time.monotonic()
                if m["msg_type"] == "execute_input":
                    started.add(pid)
                elif m["msg_type"] == "stream":
                    text[pid] += m["content"]["text"]
                elif m["msg_type"] == "error":
                    text[pid] += f"{m['content']['ename']}: {m['content']['evalue']}\n"
            try:
                m = kc.get_shell_msg(timeout=0.2)
                if m["parent_header"].get("msg_id") in text:
                    replies[m["parent_header"]["msg_id"]] = m["content"].get("status")
                    last_seen = time.monotonic()
            except Exception:
                pass
            # the later cells are one-line prints: once a cell has answered, 5 s with no message
            # at all about any cell means the rest are lost, not slow
            if replies and time.monotonic() - last_seen > 5:
                break
        ran = [n + 1 for n, i in enumerate(ids) if f"CELL{n + 1} " in text[i]]
        lost = [n + 1 for n, i in enumerate(ids) if i not in replies and i not in started]
        try:
            reply = kc.execute_interactive("1", timeout=10, output_hook=lambda m: None)
            responsive = reply["content"]["status"] == "ok"
        except Exception:
            responsive = False
        return {"ran": ran, "n": len(ids), "lost": lost,
                "note": _first_error("".join(text.values())), "responsive": responsive,
                "texts": list(text.values())}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def evidence(label, repeat):
    runs = [("asyncio.run(sleep(0)), nbclient Run All (one cell at a time)", run_nbclient, NEST, 1),
            ("asyncio.run(sleep(0)), queued Run All (as JupyterLab sends it)", run_queued, NEST,
             repeat),
            ("asyncio.run(sleep(1)), nbclient Run All", run_nbclient, NEST_1S, 1),
            ("asyncio.run(sleep(1)), queued Run All", run_queued, NEST_1S, 1),
            ("control, no nest_asyncio: grokvid_nb run_sync(sleep(1)), queued Run All",
             run_queued, OURS_1S, 1)]
    vers = ""
    for name, run, first, times in runs:
        results = []
        for _ in range(times):
            try:
                r = run(first)
            except Exception as exc:
                print(f"EVIDENCE {label} | {name}: could not run ({type(exc).__name__}: {exc})")
                break
            results.append(r)
            cell3 = r["texts"][2].split("CELL3 ran ", 1)
            if len(cell3) == 2 and not vers:
                py, ipk, nest = cell3[1].split()[:3]
                vers = f"python {py} ipykernel {ipk} nest_asyncio {nest}"
        if not results:
            continue
        bad = [r for r in results if len(r["ran"]) < r["n"]]
        if not bad:
            verdict = ("all cells ran" if times == 1 else f"all cells ran in {times}/{times} runs")
        else:
            r = bad[0]
            verdict = (f"{len(bad)}/{times} runs lost cells" if times > 1 else "cells lost")
            verdict += f": cells run {r['ran'] or 'none'} of {r['n']}"
            if r["lost"]:
                verdict += (f", cell(s) {','.join(map(str, r['lost']))} never started and never"
                            " replied")
            if r["note"]:
                verdict += f"; output: {r['note']}"
            if r["responsive"] is not None:
                verdict += ("; the kernel still answers" if r["responsive"]
                            else "; the kernel no longer answers")
        print(f"EVIDENCE {label} | {vers or 'versions unknown'} | {name}: {verdict}")


if __name__ == "__main__":
    if sys.argv[1] == "notebook":
        notebook(*sys.argv[2:6])
    elif sys.argv[1] == "evidence":
        evidence(sys.argv[2], int(sys.argv[3]))
PY

find_python() {  # find_python 3.12 -> the real executable of a working python3.12 with venv
  local v="$1" c
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  local candidates=("$(command -v "python$v" 2>/dev/null)")
  # pyenv keeps each version's own binary; its shims fail unless that version is selected
  while IFS= read -r c; do candidates+=("$c/bin/python$v"); done < <(
    ls -d "$pyenv_root/versions/$v" "$pyenv_root/versions/$v".* 2>/dev/null | sort -rV)
  candidates+=("/usr/local/bin/python$v" "/usr/bin/python$v")
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if "$c" -c "import sys, venv, ensurepip
sys.exit(sys.version_info[:2] != tuple(map(int, '$v'.split('.'))))" >/dev/null 2>&1; then
      "$c" -c "import sys; print(sys.executable)"
      return 0
    fi
  done
  return 1
}

setup_cell() {  # setup_cell NAME PY SPEC MAJOR BASE_PY -> writes $WORK/NAME.setup
  local name="$1" py="$2" spec="$3" major="$4" base_py="$5"
  local venv="$MATRIX_DIR/$name" t0 reuse=0 status=PASS reason=""
  local vpy="$venv/bin/python" logs="$MATRIX_DIR/$name/logs"
  t0=$(date +%s)
  local stamp
  stamp="$(cksum <"$ROOT/pyproject.toml" | cut -d' ' -f1) $spec $PKGS $base_py"
  if [ "$FRESH" != "1" ] && [ -x "$vpy" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$stamp" ] &&
     "$vpy" - "$py" "$major" "$ROOT" >/dev/null 2>&1 <<'PY'
import os, sys, ipykernel, nbclient, nbformat, pytest, pytest_timeout, pytest_asyncio, grokvid_nb
py, major, root = sys.argv[1:]
assert "%d.%d" % sys.version_info[:2] == py
assert ipykernel.__version__.split(".")[0] == major
assert os.path.realpath(grokvid_nb.__file__).startswith(os.path.realpath(root) + os.sep)
PY
  then
    reuse=1
  else
    rm -rf "$venv"
    mkdir -p "$logs"
    if ! "$base_py" -m venv "$venv" >"$logs/venv.log" 2>&1; then
      status=FAIL; reason="venv creation failed (see $logs/venv.log)"
    # shellcheck disable=SC2086
    elif ! "$vpy" -m pip install -q --no-compile -e "$ROOT" "$spec" $PKGS \
          >"$logs/pip.log" 2>&1; then
      status=FAIL; reason="pip install failed (see $logs/pip.log)"
    else
      echo "$stamp" >"$venv/.stamp"
    fi
  fi
  mkdir -p "$logs"
  if [ "$status" = PASS ] &&
     ! "$vpy" -m ipykernel install --sys-prefix --name python3 >"$logs/kernelspec.log" 2>&1; then
    status=FAIL; reason="ipykernel install failed (see $logs/kernelspec.log)"
  fi
  if [ "$status" = PASS ] && [ "$EVIDENCE" = "1" ] &&
     [ ! -f "$venv/overlay-nest_asyncio/nest_asyncio.py" ]; then
    "$vpy" -m pip install -q --no-deps --no-compile --target "$venv/overlay-nest_asyncio" \
      "$NEST_ASYNCIO_PIN" >"$logs/overlay.log" 2>&1 || true
  fi
  printf '%s\n%s\n%s\n%s\n' "$status" "$(( $(date +%s) - t0 ))" "$reuse" "$reason" \
    >"$WORK/$name.setup"
}

t_all=$(date +%s)
MIN_PY="$(sed -nE 's/^requires-python *= *">= *([0-9]+\.[0-9]+)".*/\1/p' "$ROOT/pyproject.toml")"
SUMMARY=()
SUMMARY_BAD=()
EVIDENCE_LINES=()
RUN=()        # "name py major run|skip", in the order asked
ran_cells=0
failed=0

# -- set-up, JOBS cells at a time
echo "== setting up venvs in $MATRIX_DIR (${JOBS} at a time)"
for cell in $CELLS; do
  py="${cell%%:*}"
  major="${cell##*:}"
  name="$py-ipykernel$major"
  case " ${RUN[*]} " in *" $name "*) continue ;; esac   # a cell asked for twice runs once
  case "$major" in
    6) spec="ipykernel>=6.29,<7" ;;
    7) spec="ipykernel>=7,<8" ;;
    *) echo "!! bad cell '$cell' (want PY:6 or PY:7)" >&2
       SUMMARY_BAD+=("FAIL  bad cell '$cell' (want PY:6 or PY:7)"); failed=1; continue ;;
  esac
  if [ -n "$MIN_PY" ] && [ "$(printf '%s\n' "$MIN_PY" "$py" | sort -V | head -1)" != "$MIN_PY" ]
  then
    echo "!! $name: grokvid_nb requires Python >=$MIN_PY" >&2
    SUMMARY_BAD+=("$(printf 'FAIL  python %-7s ipykernel %-7s  -- below requires-python >=%s' \
      "$py" "$major.x" "$MIN_PY")")
    failed=1
    continue
  fi
  if ! base_py="$(find_python "$py")"; then
    echo "   $name: SKIP, python$py (with venv) is not installed"
    RUN+=("$name $py $major skip")
    continue
  fi
  RUN+=("$name $py $major run")
  ran_cells=$((ran_cells + 1))
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  echo "   $name: $base_py"
  setup_cell "$name" "$py" "$spec" "$major" "$base_py" &
done
wait
echo "   set-up took $(( $(date +%s) - t_all ))s"

# -- the kernels, one cell at a time
for entry in "${RUN[@]}"; do
  read -r name py major what <<<"$entry"
  if [ "$what" = skip ]; then
    SUMMARY+=("$(printf 'SKIP  python %-7s ipykernel %-7s  python%s (with venv) is not installed' \
      "$py" "$major.x" "$py")")
    continue
  fi
  venv="$MATRIX_DIR/$name"
  vpy="$venv/bin/python"
  logs="$venv/logs"
  mapfile -t setup <"$WORK/$name.setup"
  status="${setup[0]:-FAIL}"; t_setup="${setup[1]:-0}"; reuse="${setup[2]:-0}"
  reason="${setup[3]:-}"
  echo "== $name ($([ "$reuse" = 1 ] && echo reused || echo created) in ${t_setup}s)"
  [ "$status" = PASS ] || { tail -20 "$logs"/*.log 2>/dev/null | grep -v 'is ignored: it is neither'; }
  t0=$(date +%s)
  # Only this venv's kernel specs are visible (JUPYTER_PATH comes before the user's and the
  # system's dirs), and the check cell asserts the kernel's own sys.prefix as well.
  export JUPYTER_PATH="$venv/share/jupyter"
  export GROKVID_HOME="$WORK/home-$name"
  pyv="$py"; ipk="$major.x"
  if [ "$status" = PASS ]; then
    # 1. the kernel is this venv's; then the quick-start notebook, Run All
    if (cd "$WORK" && timeout 600 "$vpy" "$DRIVER" notebook "$venv" "$py" "$major" \
          "$ROOT/notebooks/01_quickstart.ipynb") >"$logs/notebook.log" 2>&1; then
      grep -E '^(KERNEL|NOTEBOOK) ' "$logs/notebook.log" | sed 's/^/   /'
    else
      status=FAIL
      reason="$(grep -m1 '^KERNEL-MISMATCH' "$logs/notebook.log")"
      reason="${reason:-kernel check / 01_quickstart.ipynb failed (see $logs/notebook.log)}"
      grep -v 'Kernel is running over TCP' "$logs/notebook.log" | tail -40 | sed 's/^/   | /'
    fi
    kline="$(grep -m1 '^KERNEL python=' "$logs/notebook.log" 2>/dev/null)"
    if [ -n "$kline" ]; then
      pyv="$(sed -E 's/.*python=([^ ]+).*/\1/' <<<"$kline")"
      ipk="$(sed -E 's/.*ipykernel=([^ ]+).*/\1/' <<<"$kline")"
    fi
  fi
  if [ "$status" = PASS ]; then
    # 2. the real-kernel tests
    if (cd "$ROOT" && timeout 900 "$vpy" -m pytest -q -p no:cacheprovider -o addopts="" \
          tests/engine/test_kernel.py tests/compare/test_compare_kernel.py \
          tests/nbenv/test_nest_asyncio.py -k "not other_ipykernel") \
          >"$logs/pytest.log" 2>&1; then
      tail -1 "$logs/pytest.log" | sed 's/^/   pytest: /'
    else
      status=FAIL; reason="pytest failed (see $logs/pytest.log)"
      tail -60 "$logs/pytest.log" | sed 's/^/   | /'
    fi
  fi
  t_tests=$(( $(date +%s) - t0 ))
  line="$(printf '%-4s  python %-7s ipykernel %-7s  %4ss  (set-up %ss%s, kernel runs %ss)%s' \
    "$status" "$pyv" "$ipk" "$(( t_setup + t_tests ))" "$t_setup" \
    "$([ "$reuse" = 1 ] && echo ', reused')" "$t_tests" "${reason:+  -- $reason}")"
  echo "$line"
  SUMMARY+=("$line")
  [ "$status" = PASS ] || failed=1

  # 3. evidence only
  if [ "$EVIDENCE" = "1" ] && [ -x "$vpy" ] && [ -f "$venv/overlay-nest_asyncio/nest_asyncio.py" ]
  then
    t0=$(date +%s)
    (cd "$WORK" && PYTHONPATH="$venv/overlay-nest_asyncio" timeout 600 "$vpy" "$DRIVER" \
       evidence "$name" "$REPEAT") >"$logs/evidence.log" 2>&1
    n_ev=0
    while IFS= read -r ev; do
      echo "   $ev"
      EVIDENCE_LINES+=("$ev")
      n_ev=$((n_ev + 1))
    done < <(grep '^EVIDENCE ' "$logs/evidence.log")
    [ "$n_ev" -gt 0 ] || EVIDENCE_LINES+=("EVIDENCE $name | could not run (see $logs/evidence.log)")
    echo "   (evidence took $(( $(date +%s) - t0 ))s)"
  elif [ "$EVIDENCE" = "1" ]; then
    EVIDENCE_LINES+=("EVIDENCE $name | not run: no venv or no $NEST_ASYNCIO_PIN overlay")
  fi
  unset JUPYTER_PATH
done

echo
echo "== kernel matrix, $(date -u +%Y-%m-%d), $(( $(date +%s) - t_all ))s in all"
for line in "${SUMMARY[@]}" "${SUMMARY_BAD[@]}"; do echo "$line"; done
if [ "${#EVIDENCE_LINES[@]}" -gt 0 ]; then
  echo
  echo "== nest_asyncio evidence (informational: never fails this script)"
  for line in "${EVIDENCE_LINES[@]}"; do echo "$line"; done
fi
if [ "$ran_cells" = 0 ]; then
  echo "!! no matrix cell could run (no Python of the matrix is installed): nothing was tested" >&2
  exit 1
fi
exit "$failed"
