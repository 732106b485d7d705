"""Streaming EMVA statistics equal the in-memory formulas exactly; memory does not grow with frames."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from focuslab.hw.emva_accumulate import EmvaAccumulator, SpatialStats, channel_cells, choose_spatial_steps
from focuslab.hw.emva_series import StepKey
from focuslab.hw.emva_spatial import spatial_variances, spectrogram


def test_channel_cells_name_the_bayer_sublattices():
    assert channel_cells("mono") == {"mono": None}
    assert channel_cells("RGGB") == {"R": (0, 0), "Gr": (0, 1), "Gb": (1, 0), "B": (1, 1)}
    assert channel_cells("GRBG") == {"R": (0, 1), "Gr": (0, 0), "Gb": (1, 1), "B": (1, 0)}
    assert channel_cells("BGGR") == {"R": (1, 1), "Gr": (1, 0), "Gb": (0, 1), "B": (0, 0)}
    assert channel_cells("GBRG") == {"R": (1, 0), "Gr": (1, 1), "Gb": (0, 0), "B": (0, 1)}


@pytest.mark.parametrize("cfa", ["mono", "GRBG"])
def test_pair_and_stack_statistics_match_numpy(rng, cfa):
    flat, dark = StepKey("flat", 0.01, 500.0), StepKey("dark", 0.01)
    frames = [rng.integers(0, 4096, size=(20, 30)).astype(np.uint16) for _ in range(5)]
    acc = EmvaAccumulator({flat: 5, dark: 2}, cfa=cfa, white_level_dn=4000, spatial=(flat, dark))
    for f in frames:
        acc.add(flat, f)
    acc.add(dark, frames[0])
    acc.add(dark, frames[1])
    st = acc.finish()
    stack = np.stack(frames).astype(np.float64)
    for name, cell in channel_cells(cfa).items():
        sl = (slice(None),) if cell is None else (slice(None), slice(cell[0], None, 2), slice(cell[1], None, 2))
        planes = stack[sl]
        s = st.steps[flat][name]
        # EMVA temporal variance: half the variance of the difference of a pair, over pairs (1,2) and (3,4)
        pair_var = np.mean([np.var(planes[0] - planes[1]) / 2, np.var(planes[2] - planes[3]) / 2])
        assert s.variance_dn2 == pytest.approx(pair_var, rel=1e-12)
        assert s.mean_dn == pytest.approx(planes.mean(), rel=1e-12)
        assert s.n_saturated == int(np.count_nonzero(planes >= 4000))
        sp = st.spatial[flat][name]
        np.testing.assert_allclose(sp.mean_image_dn, planes.mean(axis=0), rtol=1e-12)
        assert sp.var_stack_dn2 == pytest.approx(planes.var(axis=0, ddof=1).mean(), rel=1e-12)
        assert sp.n_frames == 5


def test_spatial_step_choice_prefers_most_frames_then_the_middle():
    d = {t: StepKey("dark", t) for t in (1.0, 2.0, 3.0)}
    f = {t: StepKey("flat", t, 10.0) for t in (1.0, 2.0, 3.0)}
    assert choose_spatial_steps({**{k: 2 for k in d.values()}, **{k: 2 for k in f.values()}}) == (f[2.0], d[2.0])
    plan = {**{k: 2 for k in d.values()}, **{k: 2 for k in f.values()}, f[3.0]: 8}
    assert choose_spatial_steps(plan) == (f[3.0], d[3.0])


def test_column_row_and_pixel_nonuniformity_are_separated(rng):
    m, n = 200, 300
    col = rng.normal(0, 2.0, n)
    row = rng.normal(0, 1.0, m)
    pix = rng.normal(0, 3.0, (m, n))
    img = 100 + col[None, :] + row[:, None] + pix
    v = spatial_variances(SpatialStats(n_frames=10, mean_image_dn=img, var_stack_dn2=0.0))
    assert v.total_dn2 == pytest.approx(img.var(ddof=1))
    assert v.column_dn2 == pytest.approx(col.var(), rel=0.1)
    assert v.row_dn2 == pytest.approx(row.var(), rel=0.15)
    assert v.pixel_dn2 == pytest.approx(pix.var(), rel=0.02)
    # the temporal residue sigma_stack^2 / L is removed from the total
    w = spatial_variances(SpatialStats(n_frames=10, mean_image_dn=img, var_stack_dn2=5.0))
    assert v.total_dn2 - w.total_dn2 == pytest.approx(0.5)


def test_spectrogram_scaling_parseval_and_a_sinusoid(rng):
    img = rng.normal(0, 1.5, (64, 128))
    f, p = spectrogram(img, axis=1)
    assert len(f) == 65 and f[-1] == pytest.approx(0.5)
    full = p[0] + 2 * p[1:-1].sum() + p[-1]
    centred = img - img.mean()
    assert full / 128 == pytest.approx(np.mean(np.mean(centred**2, axis=1)), rel=1e-10)
    x = np.arange(128)
    wave = np.tile(3.0 * np.cos(2 * np.pi * 10 * x / 128), (64, 1))
    f, p = spectrogram(wave, axis=1)
    assert f[10] == pytest.approx(10 / 128)
    assert p[10] == pytest.approx(9.0 * 128 / 4)  # A^2 N / 4: mean over the full spectrum is A^2 / 2
    assert np.all(np.delete(p, 10) < 1e-18)
    _, pv = spectrogram(wave.T, axis=0)  # vertical spectrogram of the transposed image
    np.testing.assert_allclose(pv, p, atol=1e-9)


def _peak_bytes(n_spatial: int, n_steps: int) -> int:
    shape = (256, 256)
    plan = {}
    for i in range(n_steps):
        n = n_spatial if i == n_steps // 2 else 2
        plan[StepKey("dark", i + 1.0)] = n
        plan[StepKey("flat", i + 1.0, 100.0 * (i + 1))] = n
    gen = np.random.default_rng(0)
    tracemalloc.start()
    try:
        acc = EmvaAccumulator(plan, cfa="RGGB", white_level_dn=4095)
        for key, n in plan.items():
            for _ in range(n):
                acc.add(key, gen.integers(0, 4000, size=shape, dtype=np.uint16))
        acc.finish()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_frames():
    small = _peak_bytes(n_spatial=4, n_steps=6)  # 32 frames
    large = _peak_bytes(n_spatial=64, n_steps=24)  # 220 frames
    assert large < 1.15 * small
    # a few frames' worth (12 B/px accumulators, 8 B/px kept dark average, strips, frames in flight),
    # against 440 B/px for the 220 frames kept in memory as uint16
    assert large < 64 * 256 * 256
