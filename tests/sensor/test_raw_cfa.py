"""RawFrame validation and helpers; CFA geometry."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.sensor import RawFrame, cfa_at_offset, cfa_channel_index, cfa_masks


def frame(**kw) -> RawFrame:
    base = dict(
        data=np.full((4, 6), 100, np.uint16),
        black_level_dn=64.0,
        white_level_dn=1023.0,
        cfa="RGGB",
        exposure_s=0.01,
        roi=(0, 0, 6, 4),
    )
    base.update(kw)
    return RawFrame(**base)


def test_cfa_offsets_cycle():
    assert cfa_at_offset("RGGB", 1, 0) == "GRBG"
    assert cfa_at_offset("RGGB", 0, 1) == "GBRG"
    assert cfa_at_offset("RGGB", 1, 1) == "BGGR"
    assert cfa_at_offset("RGGB", 2, 4) == "RGGB"
    assert cfa_at_offset("mono", 1, 1) == "mono"
    for p in ("RGGB", "BGGR", "GRBG", "GBRG"):
        idx = cfa_channel_index(p, (5, 7))
        for x, y in [(1, 0), (0, 1), (1, 3)]:
            np.testing.assert_array_equal(
                cfa_channel_index(cfa_at_offset(p, x, y), (2, 2)), idx[y : y + 2, x : x + 2]
            )


def test_channel_index_and_masks():
    np.testing.assert_array_equal(cfa_channel_index("GBRG", (2, 3)), [[1, 2, 1], [0, 1, 0]])
    m = cfa_masks("RGGB", (4, 4))
    assert m.shape == (4, 4, 3) and m.sum() == 16
    assert m[..., 1].sum() == 8 and m[0, 0, 0] and m[1, 1, 2]
    assert cfa_masks("mono", (2, 2)).all()
    with pytest.raises(InvalidParameterError, match="RGGB"):
        cfa_channel_index("RGBW", (2, 2))


def test_normalized_and_readonly():
    data = np.array([[64, 1023], [0, 543]], np.uint16)
    r = frame(data=data, roi=(0, 0, 2, 2))
    n = r.normalized()
    assert n.dtype == np.float32
    np.testing.assert_allclose(n, [[0, 1], [-64 / 959, 479 / 959]], rtol=1e-6)
    with pytest.raises(ValueError):
        r.data[0, 0] = 5
    data[0, 0] = 7  # the caller's array stays writable
    with pytest.raises(InvalidParameterError):
        r.normalized_pair()
    with pytest.raises(TypeError):
        r.metadata["x"] = 1  # type: ignore[index]


def test_crop_shifts_cfa_and_roi():
    r = frame(data=np.arange(24, dtype=np.uint16).reshape(4, 6), roi=(10, 20, 6, 4))
    c = r.crop((1, 1, 3, 2))
    assert c.cfa == "BGGR" and c.roi == (11, 21, 3, 2)
    np.testing.assert_array_equal(c.data, [[7, 8, 9], [13, 14, 15]])
    with pytest.raises(InvalidParameterError):
        r.crop((5, 0, 3, 2))


@pytest.mark.parametrize(
    "kw",
    [
        {"data": np.zeros((4, 6), np.float32)},
        {"data": np.zeros((4, 6, 1), np.uint16)},
        {"black_level_dn": 2000.0},
        {"white_level_dn": float("nan")},
        {"cfa": "XYZW"},
        {"exposure_s": -1.0},
        {"roi": (0, 0, 5, 4)},
        {"roi": (-2, 0, 6, 4)},
        {"left": np.zeros((4, 6), np.uint16)},
        {"left": np.zeros((4, 5), np.uint16), "right": np.zeros((4, 5), np.uint16)},
    ],
)
def test_bad_rawframe(kw):
    with pytest.raises(InvalidParameterError):
        frame(**kw)
