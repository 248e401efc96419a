"""Small, real, playable MP4 clips made locally for the sandbox's "CDN".

A clip is H.264 (libx264 through PyAV, no system ffmpeg), yuv420p, 10 fps, with its
``moov`` atom written before ``mdat`` ("fast start", so a browser can play it while it
downloads). The frame keeps the requested aspect ratio at half the requested
resolution's size (480p: short side 240, so 16:9 is 426x240; 720p: short side 360, so
640x360; even dimensions) and lasts exactly the requested number of seconds (rounded
to whole frames). Its look is derived from a hash of the prompt, the provider and the
sample number: two colours drive a drifting diagonal gradient (the provider sets the
base hue, the prompt and sample shift it), a bright bar sweeps across, a thin progress
line along the bottom shows the playback position, and a label such as
``sandbox · xai · #0`` (plus the prompt's start) is drawn in the top-left corner, so
clips from different providers and samples are told apart at a glance and the same
inputs always give the same clip. A 6 s 480p 16:9 clip is about 60-150 KB.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_SHORT_SIDE",
    "PROVIDER_HUES",
    "clip_label",
    "frame_size",
    "make_clip",
    "parse_aspect_ratio",
    "short_side_for",
]

DEFAULT_FPS = 10
"""Frames per second of every sandbox clip."""

DEFAULT_SHORT_SIDE = 108
"""Short side in pixels when no resolution is given (the old default; tests use it)."""

PROVIDER_HUES: dict[str, float] = {"xai": 0.60, "apixo": 0.08, "pixazo": 0.33, "xingchao": 0.97, "apiinone": 0.78}
"""Base hue of each provider's clips (blue, orange, green, red, purple)."""

_SHORT_SIDES = {"480p": 240, "720p": 360}


def short_side_for(resolution: str | None) -> int:
    """Short side in pixels for a requested resolution: half of it (480p -> 240)."""
    return _SHORT_SIDES.get(str(resolution or "").strip().lower(), 240)


def clip_label(provider: str | None, sample: int | None) -> str:
    """The label drawn on a clip, e.g. ``sandbox · xai · #0``."""
    parts = ["sandbox"]
    if provider:
        parts.append(provider)
    if sample is not None:
        parts.append(f"#{sample}")
    return " · ".join(parts)


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


def _palette(seed_text: str, base_hue: float | None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Two RGB colours, a sweep speed and a phase, derived from the text (and base hue)."""
    digest = hashlib.sha256(seed_text.encode("utf-8")).digest()
    if base_hue is None:
        hue_a = digest[0] / 255.0
        hue_b = (hue_a + 0.25 + digest[1] / 255.0 * 0.5) % 1.0
    else:  # stay near the provider's hue, shifted a little by the prompt and sample
        hue_a = (base_hue + (digest[0] / 255.0 - 0.5) * 0.12) % 1.0
        hue_b = (hue_a + 0.10 + digest[1] / 255.0 * 0.15) % 1.0
    col_a = np.array(colorsys.hsv_to_rgb(hue_a, 0.75, 0.95), dtype=np.float32) * 255.0
    col_b = np.array(colorsys.hsv_to_rgb(hue_b, 0.85, 0.45), dtype=np.float32) * 255.0
    speed = 0.15 + digest[2] / 255.0 * 0.35  # sweeps per second
    phase = digest[3] / 255.0
    return col_a, col_b, speed, phase


def _label_mask(lines: list[str], width: int, height: int) -> np.ndarray:
    """A ``(h, w)`` float mask (0..1) of the label text, with a dark box behind it."""
    size = max(10, min(width, height) // 12)
    font = ImageFont.load_default(size=size)
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    pad, y = max(3, size // 3), max(3, size // 3)
    boxes = [tuple(int(math.ceil(v)) for v in draw.textbbox((0, 0), line, font=font)) for line in lines]
    box_w = min(width, max(b[2] for b in boxes) + 2 * pad)
    box_h = min(height, sum(b[3] for b in boxes) + pad * (len(lines) + 1))
    mask = np.zeros((height, width), dtype=np.float32)
    mask[:box_h, :box_w] = -1.0  # marks the backing box
    for line, box in zip(lines, boxes, strict=True):
        draw.text((pad, y), line, fill=255, font=font)
        y += box[3] + pad
    text = np.asarray(image, dtype=np.float32) / 255.0
    return np.where(text > 0, text, mask)


def _frames(
    prompt: str, width: int, height: int, n_frames: int, fps: int,
    label: list[str] | None = None, base_hue: float | None = None, seed_text: str | None = None,
    first: int = 0, count: int | None = None, mask: np.ndarray | None = None,
) -> np.ndarray:
    """Render frames ``first`` .. ``first + count`` (default: all) of an ``n_frames`` clip as a
    ``(count, h, w, 3)`` uint8 array; ``mask`` is the label's, when already drawn."""
    col_a, col_b, speed, phase = _palette(prompt if seed_text is None else seed_text, base_hue)
    count = n_frames - first if count is None else count
    t = np.arange(first, first + count, dtype=np.float32) / fps
    # Gradient and bar are smooth: draw them at 1/step of the size and upsample the bytes
    # (several times cheaper than full-size float maths at 480p/720p).
    step = 3 if min(width, height) >= 200 else 1
    gw, gh = -(-width // step), -(-height // step)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32) * step
    angle = 2 * np.pi * ((xs / width + ys / height) / 2.0 + phase)
    shift = (2 * np.pi * 0.25 * t)[:, None, None]
    # sin(angle - shift) expanded, so sin/cos run on one frame's worth of pixels only.
    mix = 0.5 + 0.5 * (np.sin(angle)[None] * np.cos(shift) - np.cos(angle)[None] * np.sin(shift))
    # A soft vertical bar sweeping left to right: it depends on x and t only.
    bar_x = ((phase + speed * t) % 1.0)[:, None] * width
    offset = (np.arange(gw, dtype=np.float32)[None] * step - bar_x) / (0.06 * width)
    bar = (0.7 * np.exp(-(offset**2)))[:, None, :].astype(np.float32)
    small = np.empty((count, gh, gw, 3), dtype=np.uint8)
    # One contiguous pass per channel is several times faster than broadcasting over RGB.
    for c in range(3):
        channel = col_b[c] + (col_a[c] - col_b[c]) * mix  # drifting diagonal gradient
        channel += (255.0 - channel) * bar
        small[..., c] = channel  # values stay within 0..255 by construction
    if step > 1:
        frames = small.repeat(step, axis=1).repeat(step, axis=2)[:, :height, :width]
        frames = np.ascontiguousarray(frames)
    else:
        frames = small
    if label:
        mask = _label_mask(label, width, height) if mask is None else mask
        box = mask < 0
        frames[:, box] = (frames[:, box] * 0.35).astype(np.uint8)
        ink = mask > 0
        alpha = mask[ink][None, :, None]
        frames[:, ink] = (frames[:, ink] * (1 - alpha) + 255.0 * alpha).astype(np.uint8)
    # Playback position along the bottom edge.
    line = max(2, height // 30)
    for i in range(count):
        filled = int(round(width * (first + i + 1) / n_frames))
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
    short_side: int | None = None,
    resolution: str | None = None,
    provider: str | None = None,
    sample: int | None = None,
) -> Path:
    """Write a fast-start H.264 MP4 of ``duration`` seconds to ``path`` and return it.

    The frame size follows ``resolution`` (see the module docstring) unless
    ``short_side`` is given (default without either: 108 px, unlabelled, as before).
    With ``provider``/``sample`` the clip carries the label ``sandbox · <provider> · #<n>``
    and the provider's colours. The file is written beside ``path`` under a temporary
    name and renamed into place, so a concurrent reader never sees half a clip.
    """
    if short_side is None:
        short_side = DEFAULT_SHORT_SIDE if resolution is None else short_side_for(resolution)
    labelled = provider is not None or sample is not None
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    width, height = frame_size(aspect_ratio, short_side)
    n_frames = max(1, int(round(duration * fps)))
    label: list[str] | None = None
    seed_text: str | None = None
    if labelled:
        label = [clip_label(provider, sample)]
        words = " ".join(part for part in prompt.split() if not part.startswith("[sandbox:"))
        if words:
            label.append(words if len(words) <= 32 else words[:31] + "…")
        seed_text = f"{provider}|{sample}|{prompt}"
    base_hue = PROVIDER_HUES.get(provider or "")
    mask = _label_mask(label, width, height) if label else None
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
            stream.options = {"preset": "ultrafast", "crf": "30", "g": str(fps * 5)}
            # frames are drawn a second's worth at a time and the GIL is let go after each frame,
            # so a kernel hosting the sandbox stays responsive while clips are made
            for first in range(0, n_frames, fps):
                chunk = _frames(prompt, width, height, n_frames, fps, label, base_hue, seed_text,
                                first=first, count=min(fps, n_frames - first), mask=mask)
                time.sleep(0)
                for offset, pixels in enumerate(chunk):
                    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                    frame.pts = first + offset
                    frame.time_base = Fraction(1, fps)
                    for packet in stream.encode(frame):
                        container.mux(packet)
                    time.sleep(0)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
