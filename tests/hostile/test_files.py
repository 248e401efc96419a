"""Hostile provider ids never leave their folder, and the atomic writer never replaces anything
but a regular file nor leaves a partial file behind (error, Ctrl-C, refused target)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest

from grokvid_nb._exceptions import UnsafePathError
from grokvid_nb._files import AtomicWriter, check_target, child_path, safe_name, trusted_copy

HOSTILE_IDS = [
    "../../../../tmp/X/pwned", "/etc/passwd", "C:\\x", "C:/Windows/system32", "a\x00b", "x" * 300,
    "..", ".", "", " ", "....//....//", "~root", "$HOME", "CON", "nul.mp4", "🎬视频", "é/../é",
    "\\\\server\\share", "a\nb", "-rf", ".hidden", "id%2F..%2F..%2Fetc",
]


@pytest.mark.parametrize("raw", HOSTILE_IDS)
def test_hostile_ids_stay_inside(tmp_path: Path, raw: str) -> None:
    name = safe_name(raw, prefix="xai-", suffix=".mp4")
    assert re.fullmatch(r"xai-[A-Za-z0-9][A-Za-z0-9._-]*\.mp4", name), name
    assert len(name) <= 4 + 80 + 13 + 4
    path = child_path(tmp_path, name)
    assert path.resolve().parent == tmp_path.resolve()
    with AtomicWriter(path) as out:
        out.write(b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("raw,expected", [
    ("0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950e"),
    ("task_123.v2", "task_123.v2"),
    ("../../../../tmp/X/pwned", "tmp_X_pwned-" + hashlib.sha256(b"../../../../tmp/X/pwned").hexdigest()[:12]),
    ("", "unnamed-e3b0c44298fc"),
    ("..", "unnamed-" + hashlib.sha256(b"..").hexdigest()[:12]),
])
def test_safe_name_exact(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_distinct_ids_get_distinct_names() -> None:
    ids = ["a/b", "a_b", "a\\b", "a b", "a:b", "A/B", "x" * 300, "x" * 301]
    assert len({safe_name(i) for i in ids}) == len(ids)


def test_child_path_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    os.symlink("/etc", tmp_path / "out" / "link")
    for name in ("../x", "..", ".", "", "a/b", "/etc/passwd", "link"):
        with pytest.raises(UnsafePathError, match="would leave the folder"):
            child_path(tmp_path / "out", name)


def test_atomic_write_replaces_a_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "v.mp4"
    target.write_bytes(b"old")
    with AtomicWriter(target) as out:
        out.write(b"new ")
        out.write(b"bytes")
    assert target.read_bytes() == b"new bytes" and out.size == 9
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_no_partial_file_on_error(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "v.mp4"
    with pytest.raises(type(error)), AtomicWriter(target) as out:
        out.write(b"half")
        assert len(list(tmp_path.iterdir())) == 1  # the .part file exists meanwhile
        raise error
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"kept")
    with pytest.raises(type(error)), AtomicWriter(target) as out:
        out.write(b"half")
        raise error
    assert target.read_bytes() == b"kept" and [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


def test_abort_drops_the_data(tmp_path: Path) -> None:
    with AtomicWriter(tmp_path / "v.mp4") as out:
        out.write(b"x")
        out.abort()
    assert list(tmp_path.iterdir()) == []


def _char_device(tmp_path: Path) -> Path | None:
    """A private twin of /dev/null (needs root): tests must never aim a writer at the real one,
    since a regression would replace it for the whole machine."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        return None
    return node


def _special_targets(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    (tmp_path / "elsewhere").write_bytes(b"precious")
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    targets = {"a FIFO": fifo, "a directory": tmp_path / "dir", "a symlink": tmp_path / "link"}
    device = _char_device(tmp_path)
    if device is not None:
        targets["a character device"] = device
    return targets


def test_dev_null_is_refused_by_the_check() -> None:
    with pytest.raises(UnsafePathError, match="'/dev/null': it is a character device"):
        check_target("/dev/null")  # only inspected (lstat), never opened for writing


def test_never_replaces_a_special_file(tmp_path: Path) -> None:
    targets = _special_targets(tmp_path)
    for kind, target in targets.items():
        message = (f"refusing to replace {str(target)!r}: it is {kind}, and only a regular file "
                   "may be overwritten by a download")
        with pytest.raises(UnsafePathError) as info:
            check_target(target)
        assert str(info.value) == message
        with pytest.raises(UnsafePathError), AtomicWriter(target) as out:
            out.write(b"mp4")
    assert (tmp_path / "elsewhere").read_bytes() == b"precious"
    if "a character device" in targets:
        assert stat.S_ISCHR((tmp_path / "null").lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["dir", "elsewhere", "fifo", "link", *(["null"] if "a character device" in targets else [])])


def test_target_turning_special_before_rename_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "v.mp4"
    with pytest.raises(UnsafePathError, match="it is a FIFO"), AtomicWriter(target) as out:
        out.write(b"mp4")
        os.mkfifo(target)  # appeared while downloading
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"] and stat.S_ISFIFO(target.lstat().st_mode)


def test_trusted_copy(tmp_path: Path) -> None:
    good = tmp_path / "good.mp4"
    good.write_bytes(b"12345")
    (tmp_path / "empty.mp4").write_bytes(b"")
    os.symlink(good, tmp_path / "link.mp4")
    assert trusted_copy(good) is True
    assert trusted_copy(good, expected_size=5) is True
    assert trusted_copy(good, expected_size=6) is False
    assert trusted_copy(tmp_path / "empty.mp4") is False
    assert trusted_copy(tmp_path / "link.mp4") is False
    assert trusted_copy(tmp_path / "missing.mp4") is False
    assert trusted_copy(Path("/dev/null")) is False
    assert trusted_copy(tmp_path) is False
    assert trusted_copy(None) is False
