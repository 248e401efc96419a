"""Every error grokvid_nb raises, in one tree.

```
GrokVidError
├── ConfigurationError            the toolkit is not set up to make this call
│   ├── MissingAPIKeyError        no key in the argument nor in the provider's env var
│   ├── MissingBaseURLError       a provider without a default base URL, none configured
│   └── UploaderRequiredError     local image content for a URL-only provider, no uploader set
├── ValidationError (ValueError)  a parameter this provider/model does not allow
│   └── ArgumentError (TypeError) an argument of the wrong type or outside its range
├── ImageInputError (ValueError)  an image input that is not a usable image
├── BudgetExceededError           a request or batch would cross max_cost_usd or gv.set_budget
├── ProviderError                 the provider answered, and it was not a success
│   ├── AuthenticationError       401 / 403
│   ├── InsufficientBalanceError  402
│   ├── RequestRejectedError      400 / 422: the provider refused the parameters
│   ├── TaskNotFoundError         404 on a status poll
│   ├── RateLimitedError          429 (carries retry_after seconds when given)
│   ├── ProviderServerError       5xx
│   └── ProviderResponseError     a body we cannot read: not JSON, unknown status, ...
│       └── ReplyTooLargeError    a reply or download over its size cap (decoded or raw)
├── TransportError                no usable reply: refused, dropped, timed out
│   └── DeadlineExceededError     (TimeoutError) a whole request+body over its deadline
├── DownloadError                 a result's video could not be saved: HTTP error, not a video
│   └── ResultExpiredError        the provider's result URL expired and no local copy was kept
├── UnsafePathError (ValueError)  a download target that must not be written or replaced
├── LedgerError                   the ledger file is full, read-only or corrupted (path + hint)
└── UploadError                   hosting an image failed, or the uploader's URL is unusable
```

A job that ends badly is not an exception: `job.wait()` returns a `Result` whose state says
how it ended (failed, expired, timed_out, or unknown when a submit's reply was lost and it
was deliberately not resent).

Messages never contain API keys: everything quoted from a provider goes through
`grokvid_nb._secrets.redact` first.
"""

from __future__ import annotations

__all__ = [
    "GrokVidError",
    "ConfigurationError",
    "MissingAPIKeyError",
    "MissingBaseURLError",
    "UploaderRequiredError",
    "ValidationError",
    "ImageInputError",
    "BudgetExceededError",
    "ProviderError",
    "AuthenticationError",
    "InsufficientBalanceError",
    "RequestRejectedError",
    "TaskNotFoundError",
    "RateLimitedError",
    "ProviderServerError",
    "ProviderResponseError",
    "TransportError",
    "DownloadError",
    "ResultExpiredError",
    "UploadError",
    "ArgumentError",
    "ReplyTooLargeError",
    "DeadlineExceededError",
    "UnsafePathError",
    "LedgerError",
]


class GrokVidError(Exception):
    """Base class of every grokvid_nb error."""


class ConfigurationError(GrokVidError):
    """The toolkit is not configured to make this call."""


class MissingAPIKeyError(ConfigurationError):
    """No API key was given and the provider's environment variable is unset."""


class MissingBaseURLError(ConfigurationError):
    """The provider's adapter has no default base URL and none was configured (`base_url=` or
    its environment variable). Every built-in provider now has a published default (XingChaoYiQing's
    since 2026-11), so this concerns adapters whose `default_base_url` is None."""


class ValidationError(GrokVidError, ValueError):
    """A request parameter is not allowed by the chosen provider and model.

    `parameter`, `value` and `allowed` say exactly what was wrong.
    """

    def __init__(self, provider: str, model: str, parameter: str, value: object, allowed: str) -> None:
        self.provider = provider
        self.model = model
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{provider}/{model}: {parameter}={shown} is not allowed; {allowed}")


class BudgetExceededError(GrokVidError):
    """The estimated cost of a request or batch would cross the caller's `max_cost_usd` or the
    budget set with `gv.set_budget`; nothing was sent."""


class ProviderError(GrokVidError):
    """The provider answered with something other than success.

    Attributes: `provider`, `status_code` (HTTP), `code` and `message` as the provider gave them.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        self.provider = provider
        self.status_code = status_code
        self.code = code
        self.message = message
        where = f"HTTP {status_code}" if status_code is not None else "response"
        label = f" [{code}]" if code else ""
        super().__init__(f"{provider} {where}{label}: {message}")


class AuthenticationError(ProviderError):
    """The provider refused the API key (401/403)."""


class InsufficientBalanceError(ProviderError):
    """The account has no balance or quota left (402)."""


class RequestRejectedError(ProviderError):
    """The provider refused the request's parameters (400/422)."""


class TaskNotFoundError(ProviderError):
    """The provider does not know this task id (404)."""


class RateLimitedError(ProviderError):
    """Too many requests (429). `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, provider: str, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(provider, message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProviderServerError(ProviderError):
    """The provider failed on its side (5xx)."""


class ProviderResponseError(ProviderError):
    """The provider's reply could not be understood; the message quotes what came back."""


class TransportError(GrokVidError):
    """No usable reply arrived: connection refused or dropped, or a network timeout."""


class DownloadError(GrokVidError):
    """A result's video could not be saved: the URL answered with an HTTP error (result URLs
    expire) or the body was not a video. `url` and `status_code` (None when not HTTP) say which."""

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        self.url = url
        self.status_code = status_code
        super().__init__(message)


class ResultExpiredError(DownloadError):
    """The provider's result URL has expired (its documented lifetime passed, or it answered
    403/404/410) and no local copy was kept. Raised by `download()` (no partial file is left)
    and by `reuse=True` (nothing is sent): pass `reuse=False` to generate the clip again.
    `expired_at` is the time (epoch seconds) it expired or was seen expired."""

    def __init__(self, message: str, *, url: str, expired_at: float | None,
                 status_code: int | None = None) -> None:
        self.expired_at = expired_at
        super().__init__(message, url=url, status_code=status_code)


class UploaderRequiredError(ConfigurationError):
    """A URL-only provider was given local image content and no uploader is configured.

    Raised before anything is sent. `provider` and `parameter` say where.
    """

    def __init__(self, provider: str, parameter: str, message: str) -> None:
        self.provider = provider
        self.parameter = parameter
        super().__init__(message)


class ImageInputError(GrokVidError, ValueError):
    """An image input that cannot be used: not an image, unreadable, or of an unsupported kind.

    `parameter` names the argument it was passed as (`image_url`, `image_urls[1]`, ...).
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class UploadError(GrokVidError):
    """Hosting an image failed, or the uploader returned something that is not a usable URL."""


class ArgumentError(ValidationError, TypeError):
    """An argument of the wrong type or outside its range; raised before anything is sent.

    `parameter`, `value` (None for secrets, which are never shown) and `allowed` say what was wrong.
    """

    def __init__(self, parameter: str, value: object, allowed: str, *, secret: bool = False) -> None:
        GrokVidError.__init__(self, f"{parameter}={_shown(value, secret)} is not allowed; {allowed}")
        self.provider = self.model = ""
        self.parameter, self.allowed = parameter, allowed
        self.value = None if secret else value


def _shown(value: object, secret: bool) -> str:
    if secret:
        return "<not shown>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ReplyTooLargeError(ProviderResponseError):
    """A reply or download went over its size cap; `limit` is the cap in bytes."""

    def __init__(self, provider: str, message: str, *, limit: int, **kw: object) -> None:
        super().__init__(provider, message, **kw)  # type: ignore[arg-type]
        self.limit = limit


class DeadlineExceededError(TransportError, TimeoutError):
    """A request and its body did not complete before the operation's deadline.

    `maybe_sent` is False only when the request provably never left (still connecting).
    """

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class UnsafePathError(GrokVidError, ValueError):
    """A download target that is not a regular file (a device, FIFO, directory, symlink) or a
    name that would leave its folder; nothing was written."""


class LedgerError(GrokVidError):
    """The job ledger (an SQLite file) cannot be read or written: disk full, read-only,
    corrupted. `path` is the file, `hint` how to recover; `task_ids` any provider task ids that
    are held in memory until the ledger can take them (printed in the message, never lost)."""

    def __init__(self, path: str, problem: str, hint: str, *, task_ids: tuple[str, ...] = ()) -> None:
        self.path, self.problem, self.hint, self.task_ids = path, problem, hint, task_ids
        kept = (f" Task id(s) kept in memory and written as soon as the ledger can take them: "
                f"{', '.join(task_ids)}." if task_ids else "")
        super().__init__(f"the job ledger {path} cannot be used ({problem}). {hint}{kept}")
