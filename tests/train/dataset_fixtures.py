"""Tiny training sets in the ``focuslab.af_dataset/1`` format (docs/dataset_format.md) with an
analytic truth: a smoothed random texture seen by two views shifted horizontally by
``+-DISPARITY_PER_DOF * defocus / 2`` pixels (the dual-pixel geometry, DESIGN.md "Physics",
with a made-up disparity per DoF) and blurred in proportion to |defocus|. Two-frame samples
blur the texture by |defocus| at frame 0 and |defocus - move| at frame 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from focuslab.data.shards import FORMAT, write_shard
from focuslab.files import write_json_atomic

DISPARITY_PER_DOF = 0.6


def _texture(rng, n):
    return 0.3 + 0.2 * ndimage.gaussian_filter(rng.standard_normal((n, n + 8)), 1.5) / 0.2


def _views(rng, d_dof, n, light=1.0):
    tex = _texture(rng, n)
    blur = 0.3 + 0.35 * abs(d_dof)
    shift = DISPARITY_PER_DOF * d_dof / 2
    lv = ndimage.shift(ndimage.gaussian_filter(tex, blur), (0, -shift), order=1, mode="reflect")[:, 4 : 4 + n]
    rv = ndimage.shift(ndimage.gaussian_filter(tex, blur), (0, shift), order=1, mode="reflect")[:, 4 : 4 + n]
    noise = 0.01 / light
    return lv + noise * rng.standard_normal(lv.shape), rv + noise * rng.standard_normal(rv.shape)


def make_dataset(folder: Path, kind: str = "dp", *, shards: int = 3, per_shard: int = 32, crop: int = 32,
                 seed: int = 0, frames: int = 4, families: tuple[str, ...] | None = None) -> Path:  # fmt: skip
    """Write a fixture dataset of ``kind`` to ``folder``; returns ``folder``. With ``families``,
    sample i is of variant ``i % len(families)``, whose dual-pixel family is ``families[v]``."""
    entries = []
    for s in range(shards):
        rng = np.random.default_rng([seed, s])
        n = per_shard
        d = rng.uniform(-5, 5, n).astype(np.float32)
        cpd = np.full(n, 8.0, np.float32)
        code = rng.integers(200, 800, n).astype(np.int32)
        arrays = {}
        if kind == "dp" or kind == "fusion":
            pairs = [_views(rng, x, crop) for x in d]
            arrays["left"] = np.stack([p[0] for p in pairs]).astype(np.float16)
            arrays["right"] = np.stack([p[1] for p in pairs]).astype(np.float16)
        if kind == "fusion":
            true_code = code + d * cpd
            dist = 1.0 / (0.05 + true_code / 200.0)  # a made-up linear code <-> diopter map
            arrays["depth_m"] = np.repeat(dist[:, None, None], 4, axis=1).repeat(4, axis=2).astype(np.float32)
            arrays["depth_sigma_m"] = np.full_like(arrays["depth_m"], 0.01)
        if kind == "two-frame":
            move = rng.choice([-4.0, 4.0], n)
            img = []
            for x, m in zip(d, move, strict=True):
                tex = _texture(rng, crop)[:, 4 : 4 + crop]
                img.append([ndimage.gaussian_filter(tex, 0.3 + 0.35 * abs(x)),
                            ndimage.gaussian_filter(tex, 0.3 + 0.35 * abs(x - m))])  # fmt: skip
            arrays["image"] = np.asarray(img, np.float16)
            code = np.stack([code, code + (move * cpd).astype(np.int32)], axis=1)
        labels_shape = (n,)
        if kind == "video":
            t = frames
            d = (d[:, None] + np.linspace(0, 1, t)[None] * rng.uniform(-1, 1, (n, 1))).astype(np.float32)
            code = (code[:, None] + np.zeros((1, t), np.int32)).astype(np.int32)
            pairs = [[_views(rng, x, crop) for x in row] for row in d]
            arrays["left"] = np.asarray([[p[0] for p in row] for row in pairs], np.float16)
            arrays["right"] = np.asarray([[p[1] for p in row] for row in pairs], np.float16)
            arrays["true_code"] = (code + d * cpd[:, None]).astype(np.float32)
            labels_shape = (n, t)
        arrays["defocus_dof"] = d.astype(np.float32).reshape(labels_shape)
        arrays["defocus_diopters"] = (0.1 * d).astype(np.float32).reshape(labels_shape)
        arrays["defocus_codes"] = (d * (cpd if d.ndim == 1 else cpd[:, None])).astype(np.float32)
        arrays["lens_code"] = code
        arrays["codes_per_dof"] = cpd
        arrays["light_lux"] = np.full(n, 100.0, np.float32)
        arrays["signal_electrons"] = np.full(n, 1000.0, np.float32)
        arrays["variant"] = (np.arange(n) % len(families) if families else np.zeros(n)).astype(np.int16)
        entries.append(write_shard(folder, s, arrays))
    write_json_atomic(Path(folder) / "manifest.json", {
        "format": FORMAT, "kind": kind, "seed": seed, "num_samples": shards * per_shard,
        "samples_per_shard": per_shard, "crop_px": crop,
        "config": {"fixture": True} if not families else
        {"fixture": True, "variants": {f"v{i}": {"family": f, "weight": 1.0} for i, f in enumerate(families)}},
        "variants": ["fixture"] if not families else [f"v{i}" for i in range(len(families))], "shards": entries,
    })  # fmt: skip
    return Path(folder)
