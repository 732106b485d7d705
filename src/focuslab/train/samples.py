"""Training sets in memory and the batches each network learns from.

A training set (docs/dataset_format.md) is loaded shard by shard into arrays held in memory
(``float16`` images as stored). :func:`make_batch` turns sample indices into the tensors a
network's ``forward`` takes, through the normalization function of its model module (the
same one :mod:`focuslab.models.predict` uses), plus the target.

Augmentations (``rng`` given), label-preserving by construction:

Flips keep the Bayer phase of the raw mosaic crops (:func:`focuslab.data.augment.flip_mosaic`).

- vertical flip (the dual-pixel split is horizontal, the half-aperture PSFs are symmetric
  about the horizontal axis);
- horizontal flip *with* the left and right views swapped: mirroring turns the left half
  of the pupil into the right half, so the mirrored right view is the new left view and the
  disparity keeps its sign (a mirror without the swap would flip the sign of the shift and
  not of the label);
- two-frame: both flips freely (no DP geometry).
A video sample gets the same flips on all its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from focuslab.errors import InputFileError, InvalidParameterError

#: Arrays each dataset kind must hold (besides the common labels).
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "dp": ("left", "right", "defocus_dof"),
    "two-frame": ("image", "lens_code", "codes_per_dof", "defocus_dof"),
    "fusion": ("left", "right", "depth_m", "depth_sigma_m", "lens_code", "codes_per_dof", "defocus_dof"),
    "video": ("left", "right", "lens_code", "codes_per_dof", "defocus_dof"),
}


@dataclass(frozen=True, eq=False)
class SampleSet:
    """Arrays of one dataset (or a subset of its shards) in memory; first axis = sample."""

    kind: str
    arrays: dict
    crop_px: int
    manifest: dict
    #: Dual-pixel response family of each sample (``pixel4``, ``analytic``, ``ideal``) when the
    #: dataset records its variants, else None.
    families: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return int(self.arrays["defocus_dof"].shape[0])


def load_samples(folder: str | Path, *, shards: list[int] | None = None,
                 dp_families: list[str] | None = None) -> SampleSet:
    """Load the shards ``shards`` (default: all) of the training set in ``folder``; with
    ``dp_families``, only the samples rendered with those dual-pixel response families (the
    data config's ``variants``: ``pixel4``, ``analytic``, ``ideal``; each sample records its
    variant)."""
    from focuslab.data.shards import load_shard, read_manifest

    man = read_manifest(folder)
    kind = man["kind"]
    if kind not in KIND_KEYS:
        raise InputFileError(f"{folder}: dataset kind {kind!r} is not one of {', '.join(KIND_KEYS)}")
    idx = list(range(len(man["shards"]))) if shards is None else list(shards)
    if not idx:
        raise InvalidParameterError(f"{folder}: no shards selected; the dataset has {len(man['shards'])}")
    variants = (man.get("config") or {}).get("variants") or {}
    variant_family = np.array([str(v.get("family")) for v in variants.values()], dtype=object)
    keep_variants = None
    if dp_families is not None:
        if not variants:
            raise InputFileError(f"{folder}: the dataset records no dual-pixel variants; drop dp_families for it")
        keep_variants = [i for i, v in enumerate(variants.values()) if v.get("family") in set(dp_families)]
    parts: dict[str, list] = {k: [] for k in KIND_KEYS[kind]}
    fams: list | None = [] if len(variant_family) else None
    for i in idx:
        shard = load_shard(folder, i)
        missing = [k for k in parts if k not in shard]
        if keep_variants is not None and "variant" not in shard:
            missing.append("variant")
        if missing:
            raise InputFileError(f"{folder}: shard {i} lacks {missing} needed by kind {kind!r}; regenerate the dataset")
        sel = slice(None) if keep_variants is None else np.isin(np.asarray(shard["variant"]), keep_variants)
        for k in parts:
            parts[k].append(np.asarray(shard[k])[sel])
        if fams is not None:
            if "variant" not in shard:
                fams = None
            else:
                fams.append(variant_family[np.asarray(shard["variant"])[sel]])
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    if len(arrays["defocus_dof"]) == 0:
        raise InvalidParameterError(f"{folder}: no sample of the dual-pixel families {list(dp_families or [])} "
                                    "in the selected shards; check dp_families against the data config's variants")
    families = np.concatenate(fams) if fams else None
    return SampleSet(kind, arrays, int(man["crop_px"]), man, families)


def concat_samples(sets: list[SampleSet]) -> SampleSet:
    """One :class:`SampleSet` of several of the same kind and crop (e.g. two cameras)."""
    first = sets[0]
    for s in sets[1:]:
        if s.kind != first.kind or s.crop_px != first.crop_px:
            raise InvalidParameterError(
                f"datasets differ: kind {s.kind!r} crop {s.crop_px} vs kind {first.kind!r} crop {first.crop_px}"
            )
    if len(sets) == 1:
        return first
    arrays = {k: np.concatenate([s.arrays[k] for s in sets]) for k in first.arrays}
    families = None
    if all(s.families is not None for s in sets):
        families = np.concatenate([s.families for s in sets])
    return SampleSet(first.kind, arrays, first.crop_px, first.manifest, families)


def family_share_groups(samples: SampleSet, share: dict) -> list[tuple[np.ndarray, float]]:
    """The sample groups of a ``dp_family_share`` mapping (family -> share of each batch): one
    group per named family, then one of the samples of every other family holding the rest of
    the share (left out when the shares sum to 1). Each group as ``(indices, share)``."""
    if samples.families is None:
        raise InputFileError("dp_family_share needs datasets that record each sample's dual-pixel variant; "
                             "regenerate them with variants or drop dp_family_share")
    groups, named = [], np.zeros(len(samples), bool)
    for fam, frac in share.items():
        hit = samples.families == fam
        if not hit.any():
            raise InvalidParameterError(f"dp_family_share names {fam!r}, but no training sample has that family; "
                                        f"the data holds {sorted(set(samples.families.tolist()))}")
        groups.append((np.flatnonzero(hit), float(frac)))
        named |= hit
    rest = 1.0 - sum(float(f) for f in share.values())
    if rest > 1e-9:
        if named.all():
            raise InvalidParameterError(f"dp_family_share leaves {rest:.0%} of each batch to other families, "
                                        "but the data holds no other; make the shares sum to 1")
        groups.append((np.flatnonzero(~named), rest))
    return groups


def share_batch_indices(groups: list[tuple[np.ndarray, float]], batch: int, rng: np.random.Generator) -> np.ndarray:
    """One batch of ``batch`` sample indices holding each group's share (rounded, the last group
    taking the remainder), drawn at random within each group (without replacement within the
    batch unless a group is smaller than its part), then shuffled."""
    counts = [round(frac * batch) for _, frac in groups[:-1]]
    counts.append(batch - sum(counts))
    parts = [rng.choice(idx, size=n, replace=n > len(idx)) for (idx, _), n in zip(groups, counts, strict=True) if n > 0]
    return rng.permutation(np.concatenate(parts))


def split_train_val(
    folders: str | Path | list, val_folder: str | Path | None, val_shards: int,
    *, dp_families: list[str] | None = None,
) -> tuple[SampleSet, SampleSet]:
    """Training and held-out sets of one or several dataset folders: ``val_folder`` when given,
    else the last ``val_shards`` shards of each folder are held out (shard *i* is drawn from
    ``rng([seed, i])``, so held-out shards share no sample with the training shards).
    ``dp_families`` keeps, in both, only the samples of those dual-pixel response families
    (:func:`load_samples`)."""
    from focuslab.data.shards import read_manifest

    folders = [folders] if isinstance(folders, str | Path) else list(folders)
    trains, vals = [], []
    for folder in folders:
        n = len(read_manifest(folder)["shards"])
        if val_folder is not None:
            trains.append(load_samples(folder, dp_families=dp_families))
            continue
        if val_shards < 1 or val_shards >= n:
            raise InvalidParameterError(
                f"{folder} has {n} shards; hold out 1..{n - 1} with val_shards (got {val_shards}) or give val_data"
            )
        cut = n - val_shards
        trains.append(load_samples(folder, shards=list(range(cut)), dp_families=dp_families))
        vals.append(load_samples(folder, shards=list(range(cut, n)), dp_families=dp_families))
    if val_folder is not None:
        vals = [load_samples(val_folder, dp_families=dp_families)]
    return concat_samples(trains), concat_samples(vals)


def _flip_masks(rng: np.random.Generator | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if rng is None:
        return np.zeros(n, bool), np.zeros(n, bool)
    return rng.random(n) < 0.5, rng.random(n) < 0.5


def _flip_pair(a: np.ndarray, b: np.ndarray, vflip: np.ndarray, hswap: np.ndarray, swap: bool = True):
    """Per-sample Bayer-phase-keeping flips (:func:`focuslab.data.augment.flip_mosaic`) of two
    ``N x ... x H x W`` stacks; with ``swap`` a horizontal flip also swaps the views."""
    from focuslab.data.augment import flip_mosaic

    a = a.astype(np.float32)
    b = b.astype(np.float32)
    if vflip.any():
        a[vflip] = flip_mosaic(a[vflip], -2)
        b[vflip] = flip_mosaic(b[vflip], -2)
    if hswap.any():
        fa, fb = flip_mosaic(a[hswap], -1), flip_mosaic(b[hswap], -1)
        a[hswap], b[hswap] = (fb, fa) if swap else (fa, fb)
    return a, b


def make_batch(
    samples: SampleSet, idx: np.ndarray, *, rng: np.random.Generator | None = None, clip_dof: float = 40.0
) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """``(inputs, extra)`` for samples ``idx``: ``inputs`` = what the model's ``forward`` takes
    (for ``video``: per-frame DP inputs ``B x T x 3 x H x W`` and moves ``B x T x 2``, unrolled
    by the training loop), ``extra["target"]`` the clipped signed defocus (DoF), ``B`` or
    ``B x T``; for video also ``extra["code_dof"]`` = ``lens_code / codes_per_dof``."""
    from focuslab.models.dp_defocus import normalize_dp
    from focuslab.models.fusion import normalize_fusion
    from focuslab.models.temporal import normalize_move
    from focuslab.models.two_frame import normalize_two_frame

    a = samples.arrays
    idx = np.asarray(idx)
    vflip, hswap = _flip_masks(rng, len(idx))
    target = torch.from_numpy(np.clip(a["defocus_dof"][idx].astype(np.float32), -clip_dof, clip_dof))
    extra = {"target": target}
    kind = samples.kind
    if kind == "two-frame":
        img = a["image"][idx]
        f0, f1 = _flip_pair(img[:, 0], img[:, 1], vflip, hswap, swap=False)
        codes = torch.from_numpy(a["lens_code"][idx].astype(np.float32))
        cpd = torch.from_numpy(a["codes_per_dof"][idx].astype(np.float32))
        x, move = normalize_two_frame(torch.from_numpy(f0), torch.from_numpy(f1), codes[:, 0], codes[:, 1], cpd)
        return (x, move), extra
    left, right = _flip_pair(a["left"][idx], a["right"][idx], vflip, hswap)
    lt, rt = torch.from_numpy(left), torch.from_numpy(right)
    if kind == "dp":
        return (normalize_dp(lt, rt),), extra
    cpd = torch.from_numpy(a["codes_per_dof"][idx].astype(np.float32))
    codes = torch.from_numpy(a["lens_code"][idx].astype(np.float32))
    if kind == "fusion":
        z = normalize_fusion(torch.from_numpy(a["depth_m"][idx]), torch.from_numpy(a["depth_sigma_m"][idx]), codes, cpd)
        return (normalize_dp(lt, rt), z), extra
    # video: B x T x H x W
    b, t, h, w = lt.shape
    x = normalize_dp(lt.reshape(b * t, h, w), rt.reshape(b * t, h, w)).reshape(b, t, 3, h, w)
    moves = [normalize_move(codes[:, 0], None, cpd)]
    moves += [normalize_move(codes[:, k], codes[:, k - 1], cpd) for k in range(1, t)]
    extra["code_dof"] = codes / cpd[:, None]
    return (x, torch.stack(moves, dim=1)), extra
