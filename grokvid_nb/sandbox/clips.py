"""Small, real, playable MP4 clips made locally for the sandbox's "CDN".

A clip is H.264 (libx264 through PyAV, no system ffmpeg), yuv420p, 10 fps, with its
``moov`` atom written before ``mdat`` ("fast start", so a browser can play it while it
downloads). The frame keeps the requested aspect ratio at a small size (short side
108 px, even dimensions) and lasts exactly the requested number of seconds (rounded to
whole frames). Its look is derived from a hash of the prompt: two colours drive a
drifting diagonal gradient, a bright bar sweeps across, and a thin progress line along
the bottom shows the playback position, so different prompts give visibly different
clips and the same prompt always gives the same clip.
"""

from __future__ import annotations

import colorsys
import hashlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["DEFAULT_FPS", "DEFAULT_SHORT_SIDE", "frame_size", "make_clip", "parse_aspect_ratio"]

DEFAULT_FPS = 10
"""Frames per second of every sandbox clip."""

DEFAULT_SHORT_SIDE = 108
"""Length in pixels of the shorter side of a clip's frame."""


def parse_aspect_ratio(aspect_ratio: str) -> tuple[int, int]:
    """Return ``(w, h)`` for a ratio such as ``"16:9"``; unknown values (``"auto"``) give 16:9."""
    try:
        w_text, h_text = aspect_ratio.split(":")
        w, h = int(w_text), int(h_text)
    except (AttributeError, ValueError):
        return 16, 9
    if w <= 0 or h <= 0:
        return 16, 9
    return w, h


def frame_size(aspect_ratio: str, short_side: int = DEFAULT_SHORT_SIDE) -> tuple[int, int]:
    """Return even ``(width, height)`` with the given short side and the ratio's shape."""
    w, h = parse_aspect_ratio(aspect_ratio)
    short = max(2, short_side - short_side % 2)
    long = max(short, int(round(short * max(w, h) / min(w, h) / 2)) * 2)
    return (long, short) if w >= h else (short, long)


def _palette(prompt: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Two RGB colours, a sweep speed and a phase, all derived from the prompt."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    hue_a = digest[0] / 255.0
    hue_b = (hue_a + 0.25 + digest[1] / 255.0 * 0.5) % 1.0
    col_a = np.array(colorsys.hsv_to_rgb(hue_a, 0.75, 0.95), dtype=np.float32) * 255.0
    col_b = np.array(colorsys.hsv_to_rgb(hue_b, 0.85, 0.55), dtype=np.float32) * 255.0
    speed = 0.15 + digest[2] / 255.0 * 0.35  # sweeps per second
    phase = digest[3] / 255.0
    return col_a, col_b, speed, phase


def _frames(prompt: str, width: int, height: int, n_frames: int, fps: int) -> np.ndarray:
    """Render all frames at once as a ``(n, h, w, 3)`` uint8 array."""
    col_a, col_b, speed, phase = _palette(prompt)
    t = np.arange(n_frames, dtype=np.float32) / fps
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = 2 * np.pi * ((xs / width + ys / height) / 2.0 + phase)
    shift = (2 * np.pi * 0.25 * t)[:, None, None]
    # sin(angle - shift) expanded, so sin/cos run on one frame's worth of pixels only.
    mix = 0.5 + 0.5 * (np.sin(angle)[None] * np.cos(shift) - np.cos(angle)[None] * np.sin(shift))
    # A soft vertical bar sweeping left to right: it depends on x and t only.
    bar_x = ((phase + speed * t) % 1.0)[:, None] * width
    offset = (np.arange(width, dtype=np.float32)[None] - bar_x) / (0.06 * width)
    bar = (0.7 * np.exp(-(offset**2)))[:, None, :].astype(np.float32)
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    # One contiguous pass per channel is several times faster than broadcasting over RGB.
    for c in range(3):
        channel = col_b[c] + (col_a[c] - col_b[c]) * mix  # drifting diagonal gradient
        channel += (255.0 - channel) * bar
        frames[..., c] = channel  # values stay within 0..255 by construction
    # Playback position along the bottom edge.
    line = max(2, height // 30)
    for i in range(n_frames):
        filled = int(round(width * (i + 1) / n_frames))
        frames[i, height - line :, :filled] = 255
        frames[i, height - line :, filled:] = 30
    return frames


def make_clip(
    prompt: str,
    duration: float,
    aspect_ratio: str,
    path: str | os.PathLike[str],
    *,
    fps: int = DEFAULT_FPS,
    short_side: int = DEFAULT_SHORT_SIDE,
) -> Path:
    """Write a fast-start H.264 MP4 of ``duration`` seconds to ``path`` and return it.

    The file is written beside ``path`` under a temporary name and renamed into place,
    so a concurrent reader never sees half a clip.
    """
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    width, height = frame_size(aspect_ratio, short_side)
    n_frames = max(1, int(round(duration * fps)))
    frames = _frames(prompt, width, height, n_frames, fps)
    fd, tmp_name = tempfile.mkstemp(suffix=".mp4", dir=target.parent)
    os.close(fd)
    try:
        # faststart makes the muxer rewrite the file, so it needs a real path, not BytesIO.
        with av.open(tmp_name, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.time_base = Fraction(1, fps)
            stream.options = {"preset": "ultrafast", "crf": "28", "g": str(fps * 2)}
            for index in range(n_frames):
                frame = av.VideoFrame.from_ndarray(frames[index], format="rgb24")
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
