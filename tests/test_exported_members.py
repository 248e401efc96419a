"""The public surface of `grokvid_nb` is exactly its literal `__all__` (as httpx pins its own)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import pytest

import grokvid_nb as gv

EXPORTED = [
    "ArgumentError", "AuthenticationError", "BudgetExceededError", "Client",
    "ConfigurationError", "DeadlineExceededError", "DownloadError", "FsspecUploader",
    "GrokVidError", "ImageInputError", "InsufficientBalanceError", "Job", "JobGroup", "LedgerError", "MissingAPIKeyError",
    "MissingBaseURLError", "ProviderError", "ProviderResponseError", "ProviderServerError",
    "RateLimitedError", "ReplyTooLargeError", "RequestRejectedError", "Result",
    "ResultExpiredError", "SandboxUploader", "State", "TaskNotFoundError", "TransportError", "UnsafePathError",
    "UploadError", "UploaderRequiredError", "ValidationError", "__version__", "as_completed", "compare",
    "compare_async", "estimate_cost", "form", "gallery", "generate", "history", "plot", "poll_policy",
    "providers", "resume", "set_budget", "set_price", "set_uploader", "spend", "summarize", "sweep",
    "use_sandbox",
]


def test_all_is_pinned() -> None:
    assert gv.__all__ == EXPORTED


def test_dir_shows_the_public_names_only() -> None:
    assert dir(gv) == sorted(EXPORTED)
    assert not [name for name in dir(gv) if name.startswith("_") and name != "__version__"]


def test_every_exported_member_is_defined_in_the_package() -> None:
    for name in EXPORTED:
        if name == "__version__":
            continue
        member = getattr(gv, name)
        assert member.__module__.startswith("grokvid_nb."), name
        assert inspect.getdoc(member), f"{name} has no docstring"


def test_the_exceptions_are_exported_from_the_package() -> None:
    from grokvid_nb import _exceptions

    assert set(_exceptions.__all__) <= set(EXPORTED)


def test_public_methods_return_public_types() -> None:
    """What a public method returns is importable from `grokvid_nb` (or is a builtin/stdlib,
    pandas, ipywidgets or matplotlib type)."""
    exported = {getattr(gv, n) for n in EXPORTED if n != "__version__"}
    for cls in (gv.Client, gv.Job, gv.Result):
        hints = {}
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not callable(member):
                continue
            hints[name] = inspect.signature(member).return_annotation
        for name, annotation in hints.items():
            text = str(annotation)
            for private in ("LedgerRow", "VideoRequest", "JobSnapshot", "ResultLink", "Adapter"):
                if private in text and name != "validate":  # validate -> the request as it will be sent
                    pytest.fail(f"{cls.__name__}.{name} returns the private type {private}")
    assert gv.Job in exported and gv.Result in exported


def test_import_is_light_and_has_no_side_effects() -> None:
    code = ("import sys, grokvid_nb\n"
            "heavy = [m for m in ('pandas', 'ipywidgets', 'matplotlib', 'starlette') if m in sys.modules]\n"
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_deprecated_adapter_names_still_import_with_a_warning() -> None:
    from grokvid_nb import adapters

    with pytest.warns(DeprecationWarning, match="use Adapter"):
        old = adapters.Provider
    assert old is adapters.Adapter
    with pytest.warns(DeprecationWarning, match="use get_adapter"):
        get = adapters.get_provider
    assert get("xai") is adapters.get_adapter("xai")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert adapters.get_adapter("apixo").name == "apixo"
