"""Test-session set-up shared by tests/ and the notebooks nbval runs: nothing is written to the
user's ~/.grokvid, and no real key in the environment can reach a test."""

from __future__ import annotations

import os
import tempfile

_KEY_VARS = ("XAI_API_KEY", "APIXO_API_KEY", "PIXAZO_API_KEY", "XINGCHAO_API_KEY",
             "APIINONE_API_KEY", "XINGCHAO_BASE_URL", "GROKVID_SANDBOX")


def pytest_configure(config: object) -> None:
    """Point GROKVID_HOME at a fresh directory and drop provider keys (kernels inherit this)."""
    os.environ["GROKVID_HOME"] = tempfile.mkdtemp(prefix="grokvid-test-home-")
    for name in _KEY_VARS:
        os.environ.pop(name, None)
