"""Every validation rule of every provider/model, in one table.

Each row is (provider, model, mode, params, expected):

- `expected` is an `Err(parameter, allowed...)`: `validate` must raise `grokvid_nb.ValidationError`
  naming `parameter`, and the message must contain the parameter name, the offending value
  (its repr, or `shown` when the value is summarized, e.g. "<8 URLs>") and every `allowed`
  fragment, copied from the provider's documentation;
- or a dict: the request is valid and its normalized params contain these items (`ABSENT`: the
  key must not be there), which covers defaults and normalizations ("720P " -> "720p");
- or None: the request is valid.

`model=None` and `mode=None` use the provider's default model and the inferred mode. Nothing is
sent anywhere: validation happens before any request is built.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

import grokvid_nb as gv
from grokvid_nb.adapters import get_adapter

ABSENT = object()

XAI_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
APIXO_RATIOS = ("1:1", "3:2", "2:3", "16:9", "9:16")
PIXAZO_RATIOS = ("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16")
IMG = "https://example.com/ref.jpg"
VID = "https://example.com/source.mp4"
DATA_URI = "data:image/png;base64,iVBORw0KGgo="


class Err(NamedTuple):
    parameter: str
    allowed: tuple[str, ...] = ()
    shown: str | None = None


def err(parameter: str, *allowed: str, shown: str | None = None) -> Err:
    return Err(parameter, allowed, shown)


def imgs(n: int) -> list[str]:
    return [f"https://example.com/{i}.jpg" for i in range(n)]


CASES: list[tuple[str, str | None, str | None, dict[str, Any], Any]] = [
    # ---------------------------------------------------------------- xai
    ("xai", None, None, {}, {"duration": 6, "resolution": "480p", "aspect_ratio": "16:9"}),
    ("xai", "grok-imagine-video-1.5", None, {}, err("model", "grok-imagine-video-1.5-preview")),
    ("xai", "grok-imagine-video-1.5-lite", "text-to-video", {"duration": 15},
     err("model", "grok-imagine-video, grok-imagine-video-1.5-preview")),
    ("xai", "grok-imagine-video-1.5-preview", "text-to-video", {}, err("mode", "image-to-video")),
    ("xai", "grok-2-video", None, {}, err("model", "grok-imagine-video", "grok-imagine-video-1.5-preview")),
    ("xai", None, "storyboard", {}, err("mode", "text-to-video", "image-to-video",
                                        "reference-to-video", "edit", "extend")),
    ("xai", None, None, {"duration": 1}, {"duration": 1}),
    ("xai", None, None, {"duration": 15}, {"duration": 15}),
    ("xai", None, None, {"duration": "10"}, {"duration": 10}),
    ("xai", None, None, {"duration": 8.0}, {"duration": 8}),
    ("xai", None, None, {"duration": 0}, err("duration", "1-15")),
    ("xai", None, None, {"duration": 16}, err("duration", "1-15")),
    ("xai", None, None, {"duration": -3}, err("duration", "1-15")),
    ("xai", None, None, {"duration": 6.5}, err("duration", "whole seconds", "1-15")),
    ("xai", None, None, {"duration": "six"}, err("duration", "1-15")),
    ("xai", None, None, {"duration": True}, err("duration", "1-15")),
    ("xai", None, None, {"resolution": "720P "}, {"resolution": "720p"}),
    ("xai", None, None, {"resolution": "1080p"}, err("resolution", "480p", "720p")),
    ("xai", None, None, {"resolution": 720}, err("resolution", "480p", "720p")),
    *[("xai", None, None, {"aspect_ratio": r}, {"aspect_ratio": r}) for r in XAI_RATIOS],
    ("xai", None, None, {"aspect_ratio": " 9:16 "}, {"aspect_ratio": "9:16"}),
    ("xai", None, None, {"aspect_ratio": "21:9"}, err("aspect_ratio", *XAI_RATIOS)),
    ("xai", None, None, {"style": "fun"}, err("style", "no style parameter")),
    ("xai", None, None, {"seed": 42}, err("seed", "unknown parameter", "duration", "image_urls")),
    ("xai", None, None, {"image_task_id": "t", "image_index": 0},
     err("image_task_id", "takes no image task")),
    ("xai", None, "text-to-video", {"image_urls": [IMG]}, err("image_urls", "takes no images")),
    ("xai", None, "text-to-video", {"video_url": VID}, err("video_url", "takes no source video")),
    # xai image-to-video: one image, URL or data URI
    ("xai", None, None, {"image_url": IMG}, {"image_urls": [IMG]}),
    ("xai", None, None, {"image_urls": DATA_URI}, {"image_urls": [DATA_URI]}),
    ("xai", None, "image-to-video", {}, err("image_urls", "requires 1+ image")),
    ("xai", None, "image-to-video", {"image_urls": []}, err("image_urls", "at least 1")),
    ("xai", None, None, {"image_urls": imgs(2)}, err("image_urls", "at most 1", shown="<2 URLs>")),
    ("xai", None, None, {"image_urls": ["ftp://example.com/a.jpg"]},
     err("image_urls", "http, https, data", shown="'ftp://example.com/a.jpg'")),
    ("xai", None, None, {"image_urls": ["  "]}, err("image_urls", "non-empty URL strings")),
    ("xai", None, None, {"image_urls": [IMG, 7]}, err("image_urls", "non-empty URL strings")),
    ("xai", None, None, {"image_url": IMG, "image_urls": [IMG]}, err("image_url", "not both")),
    # xai reference-to-video: 1-7 reference images
    ("xai", None, "reference-to-video", {"image_urls": imgs(7)}, {"image_urls": imgs(7)}),
    ("xai", None, "reference-to-video", {"image_urls": imgs(8)},
     err("image_urls", "at most 7", shown="<8 URLs>")),
    ("xai", None, "reference-to-video", {}, err("image_urls", "requires 1+ image")),
    # xai edit: a source video and nothing else
    ("xai", None, None, {"video_url": VID}, {"video_url": VID, "duration": ABSENT,
                                             "resolution": ABSENT, "aspect_ratio": ABSENT}),
    ("xai", None, "edit", {}, err("video_url", "requires video_url")),
    ("xai", None, "edit", {"video_url": "file:///tmp/a.mp4"}, err("video_url", "http(s) URL")),
    ("xai", None, "edit", {"video_url": VID, "duration": 6}, err("duration", "takes no duration")),
    ("xai", None, "edit", {"video_url": VID, "resolution": "720p"},
     err("resolution", "takes no resolution")),
    ("xai", None, "edit", {"video_url": VID, "image_urls": [IMG]}, err("image_urls", "takes no images")),
    # xai extend: extension 2-10 s (default 6); no ratio or resolution (output matches input)
    ("xai", None, "extend", {"video_url": VID}, {"duration": 6, "resolution": ABSENT,
                                                 "aspect_ratio": ABSENT}),
    ("xai", None, "extend", {"video_url": VID, "duration": 2}, {"duration": 2}),
    ("xai", None, "extend", {"video_url": VID, "duration": 10}, {"duration": 10}),
    ("xai", None, "extend", {"video_url": VID, "duration": 1}, err("duration", "2-10")),
    ("xai", None, "extend", {"video_url": VID, "duration": 11}, err("duration", "2-10")),
    ("xai", None, "extend", {"video_url": VID, "resolution": "720p"},
     err("resolution", "takes no resolution")),
    ("xai", None, "extend", {"video_url": VID, "aspect_ratio": "16:9"},
     err("aspect_ratio", "takes no aspect ratio")),
    ("xai", None, "extend", {}, err("video_url", "requires video_url")),
    # prompts, for every provider
    ("xai", None, None, {"prompt": ""}, err("prompt", "non-empty")),
    ("xai", None, None, {"prompt": "   \n"}, err("prompt", "non-empty")),
    ("xai", None, None, {"prompt": None}, err("prompt", "non-empty")),
    ("xai", None, None, {"prompt": "x" * 20000}, None),  # no documented limit
    # ---------------------------------------------------------------- apixo
    ("apixo", None, None, {}, {"duration": 6, "resolution": "480p", "aspect_ratio": "3:2",
                               "style": "normal"}),
    ("apixo", "grok-video", None, {"image_urls": [IMG]}, {"aspect_ratio": "16:9",
                                                          "image_urls": [IMG]}),
    ("apixo", "grok-imagine-video", None, {}, err("model", "grok-video")),
    ("apixo", None, "reference-to-video", {}, err("mode", "text-to-video, image-to-video")),
    ("apixo", None, None, {"video_url": VID}, err("video_url", "no edit mode",
                                                  "text-to-video, image-to-video")),
    ("apixo", None, None, {"prompt": "x" * 5000}, None),
    ("apixo", None, None, {"prompt": "x" * 5001},
     err("prompt", "at most 5000", shown="<5001 characters>")),
    ("apixo", None, None, {"prompt": ""}, err("prompt", "non-empty")),
    ("apixo", None, None, {"duration": "10"}, {"duration": 10}),
    ("apixo", None, None, {"duration": " 30 "}, {"duration": 30}),
    ("apixo", None, None, {"duration": 6}, {"duration": 6}),
    ("apixo", None, None, {"duration": 5}, err("duration", "6-30")),
    ("apixo", None, None, {"duration": 31}, err("duration", "6-30")),
    ("apixo", None, None, {"duration": "6.5"}, err("duration", "whole seconds", "6-30")),
    ("apixo", None, None, {"duration": "ten"}, err("duration", "6-30")),
    ("apixo", None, None, {"resolution": "720P "}, {"resolution": "720p"}),
    ("apixo", None, None, {"resolution": " 480p"}, {"resolution": "480p"}),
    ("apixo", None, None, {"resolution": "1080p"}, err("resolution", "480p, 720p")),
    *[("apixo", None, None, {"aspect_ratio": r}, {"aspect_ratio": r}) for r in APIXO_RATIOS],
    ("apixo", None, None, {"aspect_ratio": "4:3"}, err("aspect_ratio", ", ".join(APIXO_RATIOS))),
    ("apixo", None, None, {"style": "SPICY"}, {"style": "spicy"}),
    ("apixo", None, None, {"style": "fun"}, {"style": "fun"}),
    ("apixo", None, None, {"style": "wild"}, err("style", "fun, normal, spicy")),
    # apixo image sources: exactly one of image_urls (1 URL) or image_task_id + image_index 0-5
    ("apixo", None, None, {"image_urls": f"  {IMG} "}, {"image_urls": [IMG]}),
    ("apixo", None, None, {"image_task_id": " t1 ", "image_index": 2}, {"image_task_id": "t1"}),
    ("apixo", None, None, {"image_urls": imgs(2)}, err("image_urls", "at most 1", shown="<2 URLs>")),
    ("apixo", None, None, {"image_urls": [""]}, err("image_urls", "non-empty")),
    ("apixo", None, None, {"image_urls": [DATA_URI]},
     err("image_urls", "http, https", shown=repr(DATA_URI))),
    ("apixo", None, "image-to-video", {}, err("image_urls", "image_urls or image_task_id+image_index")),
    ("apixo", None, None, {"image_task_id": "task_previous_grok_image", "image_index": 0},
     {"image_task_id": "task_previous_grok_image", "image_index": 0, "image_urls": ABSENT}),
    ("apixo", None, None, {"image_task_id": "t", "image_index": 5}, {"image_index": 5}),
    ("apixo", None, None, {"image_task_id": "t", "image_index": 6}, err("image_index", "0 to 5")),
    ("apixo", None, None, {"image_task_id": "t", "image_index": -1}, err("image_index", "0 to 5")),
    ("apixo", None, None, {"image_task_id": "t", "image_index": "0"}, err("image_index", "0 to 5")),
    ("apixo", None, None, {"image_task_id": "t", "image_index": True}, err("image_index", "0 to 5")),
    ("apixo", None, None, {"image_task_id": "t"}, err("image_index", "0 to 5")),
    ("apixo", None, "image-to-video", {"image_index": 0}, err("image_task_id", "task id is required")),
    ("apixo", None, None, {"image_task_id": "  ", "image_index": 0},
     err("image_task_id", "task id is required")),
    ("apixo", None, None, {"image_urls": [IMG], "image_task_id": "t", "image_index": 0},
     err("image_task_id", "either image_urls or image_task_id+image_index, not both")),
    ("apixo", None, "text-to-video", {"image_task_id": "t", "image_index": 0},
     err("image_task_id", "takes no image task")),
    ("apixo", None, "text-to-video", {"image_urls": [IMG]}, err("image_urls", "takes no images")),
    # ---------------------------------------------------------------- pixazo
    ("pixazo", None, None, {}, {"duration": 6, "aspect_ratio": "16:9", "resolution": "720p"}),
    ("pixazo", "grok-imagine", None, {}, err("model", "grok-imagine-video")),
    ("pixazo", None, "extend", {}, err("mode", "text-to-video", "image-to-video",
                                       "reference-to-video", "edit")),
    ("pixazo", None, None, {"duration": 3}, {"duration": 3}),
    ("pixazo", None, None, {"duration": 10}, {"duration": 10}),
    ("pixazo", None, None, {"duration": 2}, err("duration", "3-10")),
    ("pixazo", None, None, {"duration": 11}, err("duration", "3-10")),
    ("pixazo", None, None, {"resolution": "480P"}, {"resolution": "480p"}),
    ("pixazo", None, None, {"resolution": "auto"}, err("resolution", "480p, 720p")),
    ("pixazo", None, None, {"aspect_ratio": "4:3"}, {"aspect_ratio": "4:3"}),
    ("pixazo", None, None, {"aspect_ratio": "auto"}, err("aspect_ratio", ", ".join(PIXAZO_RATIOS))),
    ("pixazo", None, None, {"style": "fun"}, err("style", "no style parameter")),
    ("pixazo", None, None, {"prompt": ""}, err("prompt", "non-empty")),
    # pixazo image-to-video: one http(s) image, 3-10 s, aspect auto (default) or a ratio
    ("pixazo", None, None, {"image_url": IMG}, {"aspect_ratio": "auto", "duration": 6,
                                                "resolution": "720p", "image_urls": [IMG]}),
    ("pixazo", None, None, {"image_url": IMG, "aspect_ratio": "AUTO"}, {"aspect_ratio": "auto"}),
    ("pixazo", None, None, {"image_url": IMG, "aspect_ratio": "5:4"},
     err("aspect_ratio", "auto, " + ", ".join(PIXAZO_RATIOS))),
    ("pixazo", None, None, {"image_url": IMG, "duration": 11}, err("duration", "3-10")),
    ("pixazo", None, None, {"image_urls": imgs(2)}, err("image_urls", "at most 1", shown="<2 URLs>")),
    ("pixazo", None, None, {"image_urls": [DATA_URI]},
     err("image_urls", "http, https", shown=repr(DATA_URI))),
    ("pixazo", None, "image-to-video", {}, err("image_urls", "requires 1+ image")),
    # pixazo reference-to-video: 1-7 images, 3-15 s (default 8), 480p default
    ("pixazo", None, "reference-to-video", {"image_urls": [IMG]},
     {"duration": 8, "resolution": "480p", "aspect_ratio": "16:9"}),
    ("pixazo", None, "reference-to-video", {"image_urls": imgs(7), "duration": 15}, {"duration": 15}),
    ("pixazo", None, "reference-to-video", {"image_urls": imgs(8)},
     err("image_urls", "at most 7", shown="<8 URLs>")),
    ("pixazo", None, "reference-to-video", {"image_urls": [IMG], "duration": 16}, err("duration", "3-15")),
    ("pixazo", None, "reference-to-video", {"image_urls": [IMG], "duration": 2}, err("duration", "3-15")),
    ("pixazo", None, "reference-to-video", {}, err("image_urls", "requires 1+ image")),
    # pixazo edit: video_url required, resolution auto/480p/720p, nothing else
    ("pixazo", None, None, {"video_url": VID}, {"resolution": "auto", "video_url": VID,
                                                "duration": ABSENT, "aspect_ratio": ABSENT}),
    ("pixazo", None, "edit", {"video_url": VID, "resolution": "720p"}, {"resolution": "720p"}),
    ("pixazo", None, "edit", {"video_url": f" {VID} ", "resolution": "AUTO"},
     {"resolution": "auto", "video_url": VID}),
    ("pixazo", None, "edit", {}, err("video_url", "requires video_url")),
    ("pixazo", None, "edit", {"video_url": VID, "resolution": "1080p"},
     err("resolution", "auto, 480p, 720p")),
    ("pixazo", None, "edit", {"video_url": VID, "duration": 6}, err("duration", "takes no duration")),
    ("pixazo", None, "edit", {"video_url": VID, "aspect_ratio": "16:9"},
     err("aspect_ratio", "takes no aspect ratio")),
    ("pixazo", None, "edit", {"video_url": VID, "image_urls": [IMG]}, err("image_urls", "takes no images")),
    ("pixazo", None, "edit", {"video_url": "s3://bucket/a.mp4"}, err("video_url", "http(s) URL")),
    # ---------------------------------------------------------------- xingchao
    ("xingchao", None, None, {}, {"duration": 10, "aspect_ratio": "16:9", "resolution": "720p"}),
    ("xingchao", "grok_video4", None, {}, err("model", "grok_video3", "grok_video3_pro",
                                              "grok_video3_max", "grok_video3_stable")),
    ("xingchao", None, "edit", {}, err("mode", "text-to-video, image-to-video")),
    ("xingchao", None, None, {"video_url": VID}, err("video_url", "no edit mode")),
    ("xingchao", None, None, {"prompt": ""}, err("prompt", "non-empty")),
    # grok_video3: 6-30 s, five ratios, 480p/720p, up to 7 images (base64 allowed)
    ("xingchao", "grok_video3", None, {"duration": 6}, {"duration": 6}),
    ("xingchao", "grok_video3", None, {"duration": 30}, {"duration": 30}),
    ("xingchao", "grok_video3", None, {"duration": 17}, {"duration": 17}),
    ("xingchao", "grok_video3", None, {"duration": 5}, err("duration", "6-30")),
    ("xingchao", "grok_video3", None, {"duration": 31}, err("duration", "6-30")),
    ("xingchao", "grok_video3", None, {"aspect_ratio": "2:3"}, {"aspect_ratio": "2:3"}),
    ("xingchao", "grok_video3", None, {"aspect_ratio": "4:3"},
     err("aspect_ratio", "16:9, 9:16, 1:1, 3:2, 2:3")),
    ("xingchao", "grok_video3", None, {"resolution": "480p"}, {"resolution": "480p"}),
    ("xingchao", "grok_video3", None, {"resolution": "1080p"}, err("resolution", "480p, 720p")),
    ("xingchao", "grok_video3", None, {"image_urls": imgs(7)}, {"image_urls": imgs(7)}),
    ("xingchao", "grok_video3", None, {"image_urls": [DATA_URI]}, {"image_urls": [DATA_URI]}),
    ("xingchao", "grok_video3", None, {"image_urls": imgs(8)},
     err("image_urls", "at most 7", shown="<8 URLs>")),
    ("xingchao", "grok_video3", "image-to-video", {}, err("image_urls", "requires 1+ image")),
    # grok_video3_pro: fixed 10 s (never sent), 16:9 only, 720p only
    ("xingchao", "grok_video3_pro", None, {}, {"duration": ABSENT, "aspect_ratio": "16:9",
                                               "resolution": "720p"}),
    ("xingchao", "grok_video3_pro", None, {"duration": 10}, {"duration": 10}),
    ("xingchao", "grok_video3_pro", None, {"duration": 6}, err("duration", "10 s")),
    ("xingchao", "grok_video3_pro", None, {"aspect_ratio": "9:16"}, err("aspect_ratio", "16:9")),
    ("xingchao", "grok_video3_pro", None, {"resolution": "480p"}, err("resolution", "720p")),
    ("xingchao", "grok_video3_pro", None, {"image_urls": imgs(3)}, {"image_urls": imgs(3)}),
    # grok_video3_max: 6/10/12/16/20/30 s, 16:9 9:16 1:1, up to 5 public URLs
    *[("xingchao", "grok_video3_max", None, {"duration": d}, {"duration": d})
      for d in (6, 10, 12, 16, 20, 30)],
    ("xingchao", "grok_video3_max", None, {}, {"duration": 10}),
    ("xingchao", "grok_video3_max", None, {"duration": 8}, err("duration", "6, 10, 12, 16, 20, 30")),
    ("xingchao", "grok_video3_max", None, {"duration": 15}, err("duration", "6, 10, 12, 16, 20, 30")),
    ("xingchao", "grok_video3_max", None, {"aspect_ratio": "1:1"}, {"aspect_ratio": "1:1"}),
    ("xingchao", "grok_video3_max", None, {"aspect_ratio": "3:2"}, err("aspect_ratio", "16:9, 9:16, 1:1")),
    ("xingchao", "grok_video3_max", None, {"image_urls": imgs(5)}, {"image_urls": imgs(5)}),
    ("xingchao", "grok_video3_max", None, {"image_urls": imgs(6)},
     err("image_urls", "at most 5", shown="<6 URLs>")),
    ("xingchao", "grok_video3_max", None, {"image_urls": [DATA_URI]},
     err("image_urls", "http, https", shown=repr(DATA_URI))),
    # grok_video3_stable: a fixed 10 s at 720p (the newer page), five ratios, up to 7 public URLs
    ("xingchao", "grok_video3_stable", None, {"duration": 6}, err("duration", "10 s")),
    ("xingchao", "grok_video3_stable", None, {}, {"duration": 10, "resolution": "720p"}),
    ("xingchao", "grok_video3_stable", None, {"duration": 8}, err("duration", "10 s")),
    ("xingchao", "grok_video3_stable", None, {"resolution": "480p"}, err("resolution", "720p")),
    ("xingchao", "grok_video3_stable", None, {"aspect_ratio": "3:2"}, {"aspect_ratio": "3:2"}),
    ("xingchao", "grok_video3_stable", None, {"aspect_ratio": "4:3"},
     err("aspect_ratio", "16:9, 9:16, 3:2, 2:3, 1:1")),
    ("xingchao", "grok_video3_stable", None, {"image_urls": imgs(7)}, None),
    ("xingchao", "grok_video3_stable", None, {"image_urls": imgs(8)},
     err("image_urls", "at most 7", shown="<8 URLs>")),
    ("xingchao", "grok_video3_stable", None, {"image_urls": [DATA_URI]},
     err("image_urls", "http, https", shown=repr(DATA_URI))),
    # ---------------------------------------------------------------- apiinone
    ("apiinone", None, None, {}, {"duration": ABSENT, "resolution": ABSENT, "aspect_ratio": ABSENT}),
    ("apiinone", None, None, {"image_urls": imgs(3)}, {"image_urls": imgs(3)}),
    ("apiinone", "grok-video", None, {}, err("model", "grok-imagine")),
    ("apiinone", None, "edit", {}, err("mode", "text-to-video, image-to-video")),
    ("apiinone", None, None, {"video_url": VID}, err("video_url", "no edit mode")),
    ("apiinone", None, None, {"prompt": "x" * 5000}, None),
    ("apiinone", None, None, {"prompt": "x" * 5001},
     err("prompt", "at most 5000", shown="<5001 characters>")),
    ("apiinone", None, None, {"duration": 6}, err("duration", "takes no duration")),
    ("apiinone", None, None, {"resolution": "720p"}, err("resolution", "takes no resolution")),
    ("apiinone", None, None, {"aspect_ratio": "16:9"}, err("aspect_ratio", "takes no aspect ratio")),
    ("apiinone", None, None, {"style": "fun"}, err("style", "no style parameter")),
    ("apiinone", None, "image-to-video", {}, err("image_urls", "requires 1+ image")),
    ("apiinone", None, "image-to-video", {"image_urls": []}, err("image_urls", "at least 1")),
    ("apiinone", None, None, {"image_urls": ["ftp://example.com/a.jpg"]},
     err("image_urls", "http, https", shown="'ftp://example.com/a.jpg'")),
    ("apiinone", None, "text-to-video", {"image_urls": [IMG]}, err("image_urls", "takes no images")),
]


def _case_id(case: tuple[Any, ...]) -> str:
    provider, model, mode, params, expected = case
    shown = ",".join(f"{k}={v!r}"[:24] for k, v in params.items())
    outcome = "ok" if not isinstance(expected, Err) else f"bad-{expected.parameter}"
    return f"{provider}-{model or 'default'}-{mode or 'auto'}-{shown}-{outcome}"


@pytest.mark.parametrize("provider, model, mode, params, expected", CASES,
                         ids=[_case_id(c) for c in CASES])
def test_validation(provider, model, mode, params, expected):
    adapter = get_adapter(provider)
    params = dict(params)
    prompt = params.pop("prompt", "a lakeside at sunset")
    if not isinstance(expected, Err):
        request = adapter.validate(prompt, model=model, mode=mode, **params)
        assert request.provider == provider
        assert request.model == (model or adapter.default_model)
        if mode is not None:
            assert request.mode == mode
        for name, value in (expected or {}).items():
            if value is ABSENT:
                assert name not in request.params, request.params
            else:
                assert request.params[name] == value, request.params
        # a valid request always builds (no KeyError/IndexError in the builder)
        adapter.build_submit(request, "http://127.0.0.1:9", _KEY)
        return

    with pytest.raises(gv.ValidationError) as info:
        adapter.validate(prompt, model=model, mode=mode, **params)
    exc = info.value
    message = str(exc)
    assert isinstance(exc, ValueError)
    assert exc.parameter == expected.parameter
    assert exc.provider == provider
    assert f"{expected.parameter}=" in message
    if expected.shown is not None:
        shown = expected.shown
    elif expected.parameter == "prompt":
        shown = repr(prompt)
    elif expected.parameter in ("model", "mode"):
        shown = repr(model if expected.parameter == "model" else mode)
    else:
        shown = repr(params.get(expected.parameter))
    assert shown[:70] in message, (shown, message)
    assert exc.allowed and exc.allowed in message
    for fragment in expected.allowed:
        assert fragment in message, (fragment, message)


from grokvid_nb._secrets import Secret  # noqa: E402  (after the table, which is the point)

_KEY = Secret("validation-test-key-000000")
