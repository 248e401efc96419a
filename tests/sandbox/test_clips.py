"""The clip maker: real, fast-start, H.264 yuv420p MP4s of the requested length and shape."""

from __future__ import annotations

import struct
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from grokvid_nb.sandbox.clips import DEFAULT_FPS, frame_size, make_clip


def top_level_boxes(data: bytes) -> list[str]:
    """Names of the MP4's top-level boxes, in file order."""
    names, offset = [], 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        names.append(name.decode("latin-1"))
        offset += size
    return names


@pytest.mark.parametrize(
    "aspect,duration", [("16:9", 6), ("9:16", 10), ("1:1", 1), ("4:3", 3), ("3:4", 5), ("3:2", 8), ("2:3", 15)]
)
def test_clip_decodes_to_requested_length_and_shape(tmp_path: Path, aspect: str, duration: int) -> None:
    path = make_clip("a lakeside at sunset", duration, aspect, tmp_path / "clip.mp4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = list(container.decode(video=0))
    assert abs(len(frames) - duration * DEFAULT_FPS) <= 1
    last = frames[-1]
    decoded_seconds = float(last.pts * last.time_base) + 1 / DEFAULT_FPS
    assert abs(decoded_seconds - duration) <= 1 / DEFAULT_FPS + 1e-6
    width, height = frames[0].width, frames[0].height
    assert width % 2 == 0 and height % 2 == 0 and min(width, height) <= 144
    w, h = (int(x) for x in aspect.split(":"))
    assert Fraction(width, height) == Fraction(w, h) or abs(width / height - w / h) < 0.02


def test_clip_is_fast_start(tmp_path: Path) -> None:
    boxes = top_level_boxes(make_clip("p", 6, "16:9", tmp_path / "c.mp4").read_bytes())
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_clip_depends_on_prompt_and_is_deterministic(tmp_path: Path) -> None:
    def first_frame(prompt: str, name: str) -> bytes:
        with av.open(str(make_clip(prompt, 1, "1:1", tmp_path / name))) as c:
            return next(c.decode(video=0)).to_ndarray(format="rgb24").tobytes()

    assert first_frame("a cat", "a.mp4") == first_frame("a cat", "b.mp4")
    assert first_frame("a cat", "a.mp4") != first_frame("a dog", "c.mp4")


def test_clip_is_quick(tmp_path: Path) -> None:
    make_clip("warm-up", 1, "16:9", tmp_path / "w.mp4")
    start = time.perf_counter()
    make_clip("timing", 6, "16:9", tmp_path / "t.mp4")
    assert time.perf_counter() - start < 0.5  # ~0.06 s here; generous for slow CI


def test_frame_sizes() -> None:
    assert frame_size("16:9") == (192, 108)
    assert frame_size("9:16") == (108, 192)
    assert frame_size("auto") == (192, 108)
    assert frame_size("1:1") == (108, 108)


def test_bad_duration(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_clip("p", 0, "16:9", tmp_path / "x.mp4")
