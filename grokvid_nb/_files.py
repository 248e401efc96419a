"""Local files from untrusted names, written so that no partial file ever looks complete.

- `safe_name` turns any provider id (`../../etc/passwd`, `C:\\x`, NUL, 300 characters, emoji)
  into a plain file name; `child_path` joins it to a folder and proves it stays inside.
- `AtomicWriter` writes to a temporary file beside the target, fsyncs it, and renames it over
  the target only when the target is absent or a regular file: never over a device such as
  `/dev/null`, a FIFO, a directory or a symlink. On any error, Ctrl-C included, the temporary
  file is removed.
- `trusted_copy` says whether an existing file may stand as a cached download.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ._exceptions import UnsafePathError

__all__ = ["safe_name", "child_path", "check_target", "AtomicWriter", "trusted_copy"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                     *(f"LPT{i}" for i in range(10))}
#: longest stem kept from the raw id; the whole name stays far below NAME_MAX (255 bytes)
MAX_STEM = 80


def safe_name(raw: str, *, prefix: str = "", suffix: str = "") -> str:
    """A file name made of `[A-Za-z0-9._-]` that cannot leave its folder, for any `raw` id.

    An id that is already safe is kept as is (`xai-<uuid>.mp4`). Any other id is sanitised and
    gets an 12-hex-digit hash of the original, so two ids never share a name. `prefix` and
    `suffix` are trusted (chosen by the library, e.g. the provider name and ".mp4").
    """
    if not isinstance(raw, str):
        raw = repr(raw)
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", text).strip("._-")[:MAX_STEM].rstrip("._-")
    changed = not stem or stem != raw or stem.split(".")[0].upper() in _WINDOWS_RESERVED
    stem = stem or "unnamed"
    if changed:
        stem += "-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{prefix}{stem}{suffix}"


def child_path(folder: str | os.PathLike[str], name: str) -> Path:
    """`folder / name`, after proving (with `resolve()`) that it is a direct child of `folder`."""
    base = Path(folder)
    path = base / name
    if (os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", "..")
            or path.resolve().parent != base.resolve()):
        raise UnsafePathError(f"refusing file name {name!r}: it would leave the folder {str(base)!r}")
    return path


def _kind(mode: int) -> str:
    for test, label in ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symlink"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return label
    return "not a regular file"


def check_target(target: str | os.PathLike[str]) -> Path:
    """Raise `UnsafePathError` unless `target` is absent or a regular file (not followed if it
    is a symlink). Call it before a download starts, so nothing is fetched in vain."""
    path = Path(target)
    try:
        info = path.lstat()
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"refusing to replace {str(path)!r}: it is {_kind(info.st_mode)}, "
                              "and only a regular file may be overwritten by a download")
    return path


class AtomicWriter:
    """`with AtomicWriter(target) as out: out.write(...)`: the bytes appear at `target` all at
    once, complete and fsynced, or not at all.

    The temporary file is `.part-<name>-<random>.part` in the target's folder (the same file system,
    so the final rename is atomic). `commit()` is implied by a clean exit of the block; call
    `abort()` to drop the data without leaving the block by an exception.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = check_target(target)
        self._file: BinaryIO | None = None
        self._tmp: Path | None = None
        self.size = 0

    def __enter__(self) -> "AtomicWriter":
        self.target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(
            mode="wb", delete=False, dir=self.target.parent,
            prefix=f".part-{self.target.name[:100]}-", suffix=".part")
        self._file, self._tmp = handle, Path(handle.name)  # type: ignore[assignment]
        return self

    def write(self, data: bytes) -> int:
        """Append `data` to the temporary file."""
        if self._file is None:
            raise RuntimeError("AtomicWriter.write() outside its with-block")
        written = self._file.write(data)
        self.size += written
        return written

    def commit(self) -> Path:
        """fsync, then rename over the target (re-checked: still absent or a regular file)."""
        if self._file is None or self._tmp is None:
            raise RuntimeError("AtomicWriter.commit() outside its with-block")
        handle, self._file = self._file, None
        try:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            check_target(self.target)
            os.replace(self._tmp, self.target)
        except BaseException:
            handle.close()
            self._discard()
            raise
        self._tmp = None
        _fsync_dir(self.target.parent)
        return self.target

    def abort(self) -> None:
        """Drop the temporary file; the target is left untouched."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._discard()

    def _discard(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None and self._file is not None:
            self.commit()
        else:
            self.abort()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def trusted_copy(path: str | os.PathLike[str] | None, expected_size: int | None = None) -> bool:
    """True when `path` may stand as a finished download: a regular file (not through a
    symlink), not empty, and exactly `expected_size` bytes when a size was recorded."""
    if path is None:
        return False
    try:
        info = Path(path).lstat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size <= 0:
        return False
    return expected_size is None or info.st_size == expected_size
