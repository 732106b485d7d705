"""Dataset generation: determinism, resume, labels against the thin-lens truth, every kind, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.generate import generate_dataset, generate_shard
from focuslab.data.generate_camera import sample_camera
from focuslab.data.generate_config import load_config, normalize_config
from focuslab.data.shards import load_shard, read_manifest
from focuslab.errors import InvalidParameterError, OutputError

SMALL = {"kind": "dp", "num_samples": 6, "samples_per_shard": 2, "crop_px": 32,
         "lens": {"aberration_probability": 0.0}, "augment": {"hflip": 0.0, "vflip": 0.0, "gain_jitter": 0.0}}


def _bytes(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".npz", ".json")}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    generate_dataset(SMALL, tmp_path / "a", seed=3)
    generate_dataset(SMALL, tmp_path / "b", seed=3)
    generate_dataset(SMALL, tmp_path / "c", seed=4)
    a, b, c = _bytes(tmp_path / "a"), _bytes(tmp_path / "b"), _bytes(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a if k.endswith(".npz"))


def test_killed_run_resumes_to_the_same_bytes(tmp_path):
    ref = tmp_path / "ref"
    generate_dataset(SMALL, ref, seed=1)

    def boom(index):
        if index == 1:
            raise KeyboardInterrupt("killed after shard 1")

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(SMALL, run, seed=1, after_shard=boom)
    assert not (run / "manifest.json").exists()
    assert sorted(json.loads((run / "progress.json").read_text())["shards"]) == ["0", "1"]
    (run / "shard-00001.npz").write_bytes(b"garbage")  # a damaged shard is regenerated too
    made = []
    generate_dataset(SMALL, run, seed=1, progress=lambda done, total: made.append(done))
    assert made == [1, 2, 3]  # shard 0 reused; 1 (damaged) and 2 regenerated
    assert _bytes(run) == _bytes(ref)
    with pytest.raises(OutputError, match="another config or seed"):
        generate_dataset(SMALL, run, seed=2)


def test_labels_follow_the_thin_lens_and_the_code_map():
    cfg = normalize_config({**SMALL, "num_samples": 8, "samples_per_shard": 8})
    s = generate_shard(cfg, 5, 0)
    for j in range(8):
        cam, vi = sample_camera(cfg, np.random.default_rng([5, 0, j]))  # the sample's own camera
        assert s["variant"][j] == vi
        d_um = float(cam.actuator.displacement_um(int(s["lens_code"][j])))
        s_mm = cam.sensor_distance_mm(d_um)
        # c = A s (1/u - 1/u_f): blur (um) = aperture (mm) x s (mm) x defocus (1/m)
        c_um = cam.lens.aperture_diameter_mm * s_mm * float(s["defocus_diopters"][j])
        assert s["defocus_dof"][j] * cam.coc_max_um == pytest.approx(c_um, rel=2e-3, abs=1e-3)
        # the code move is the DoF error times codes per DoF (local slope; jitter and play ~ a few codes)
        assert s["defocus_codes"][j] == pytest.approx(s["defocus_dof"][j] * s["codes_per_dof"][j],
                                                      rel=0.1, abs=8.0)
    assert s["left"].shape == (8, 32, 32) and s["left"].dtype == np.float16


def _disparity_px(left, right, max_shift=8):
    """x_right - x_left by brute-force SSD on 2x2-binned views (parabola sub-pixel)."""
    def bin2(x):
        x = np.asarray(x, np.float64)
        return x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]

    lft, rgt = bin2(left), bin2(right)
    lft, rgt = lft / lft.mean(), rgt / rgt.mean()
    m = max_shift // 2
    shifts = np.arange(-m, m + 1)
    ssd = np.array([np.mean((lft[:, m:-m] - rgt[:, m + s:lft.shape[1] - m + s]) ** 2) for s in shifts])
    i = int(np.clip(np.argmin(ssd), 1, len(shifts) - 2))
    den = ssd[i - 1] - 2 * ssd[i] + ssd[i + 1]
    return 2.0 * (shifts[i] + (0.5 * (ssd[i - 1] - ssd[i + 1]) / den if den > 0 else 0.0))


def test_dual_pixel_disparity_sign_matches_the_label_sign():
    cfg = normalize_config({**SMALL, "crop_px": 48, "light_lux": [500.0, 2000.0], "num_samples": 16,
                            "samples_per_shard": 16, "variants": {"ideal": {"family": "ideal"}},
                            "textures": [{"source": "dead_leaves"}], "contrast": [1.0, 1.0],
                            "lens_position": {"near_fraction": 0.0}})
    s = generate_shard(cfg, 0, 0)
    agree = total = 0
    for j in range(16):
        if 3.0 <= abs(s["defocus_dof"][j]) <= 12.0:
            total += 1
            agree += np.sign(_disparity_px(s["left"][j], s["right"][j])) == np.sign(s["defocus_dof"][j])
    assert total >= 4 and agree >= total - 1


@pytest.mark.parametrize("kind", ["two-frame", "fusion", "video"])
def test_every_kind_has_the_documented_keys(kind):
    cfg = normalize_config({**SMALL, "kind": kind, "num_samples": 2, "samples_per_shard": 2,
                            "video": {"frames": 4}})
    s = generate_shard(cfg, 0, 0)
    common = {"defocus_dof", "defocus_diopters", "defocus_codes", "lens_code", "codes_per_dof", "light_lux",
              "signal_electrons", "variant"}
    extra = {"two-frame": {"image"}, "fusion": {"left", "right", "depth_m", "depth_sigma_m"},
             "video": {"left", "right", "true_code"}}[kind]
    assert set(s) == common | extra
    if kind == "two-frame":
        assert s["image"].shape == (2, 2, 32, 32) and s["lens_code"].shape == (2, 2)
        assert np.all(s["lens_code"][:, 0] != s["lens_code"][:, 1])
    if kind == "fusion":
        assert s["depth_m"].shape == (2, 8, 8) and np.isfinite(s["depth_m"]).any()
        assert np.array_equal(np.isnan(s["depth_m"]), np.isnan(s["depth_sigma_m"]))
    if kind == "video":
        assert s["left"].shape == (2, 4, 32, 32) and s["defocus_dof"].shape == (2, 4)
        # the true code is where the lens must go: the code error is true_code - lens_code
        assert np.allclose(s["defocus_codes"], s["true_code"] - s["lens_code"], atol=1e-3)


def test_config_validation(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"unknown config key 'lens\.focal'"):
        normalize_config({"lens": {"focal": [1, 2]}})
    with pytest.raises(InvalidParameterError, match="kind 'rgb' unknown"):
        normalize_config({"kind": "rgb"})
    with pytest.raises(InvalidParameterError, match="light_lux must be a range"):
        normalize_config({"light_lux": [10, 1]})
    with pytest.raises(InvalidParameterError, match="needs a dual-pixel camera"):
        normalize_config({"camera": "no_pdaf"})
    for name in ("dp_small", "dp_default", "two_frame_default", "fusion_default", "video_default"):
        assert load_config(f"configs/data/{name}.yaml")["num_samples"] >= 1


def test_cli_generate_and_stats(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kind: dp\nnum_samples: 4\nsamples_per_shard: 2\ncrop_px: 16\nlens: {aberration_probability: 0}\n")
    out = tmp_path / "ds"
    assert main(["data", "generate", "--config", str(cfg), "--out", str(out), "--seed", "2"]) == 0
    assert "4 dp samples in 2 shards" in capsys.readouterr().out
    assert read_manifest(out)["seed"] == 2 and load_shard(out, 1)["left"].shape == (2, 16, 16)
    assert main(["data", "stats", str(out), "--json", "--report", str(tmp_path / "r.html")]) == 0
    stats = json.loads(capsys.readouterr().out.split("report:")[0])
    assert stats["num_samples"] == 4 and sum(stats["variants"].values()) == 4
    assert sum(stats["histograms"]["defocus_dof"]["counts"]) == 4
    html = (tmp_path / "r.html").read_text()
    assert html.count("data:image/png;base64") == 2 and "<h2>Examples</h2>" in html  # histograms + example crops


@pytest.mark.parametrize(("args", "match"), [
    (["--config", "nope.yaml"], "not found"),
    (["--config", "{cfg}", "--engine", "spark"], "engine 'spark' unknown"),
    (["--config", "{cfg}", "--address", "auto"], "--address is for --engine ray"),
    (["--config", "{cfg}", "--workers", "0"], "--workers must be >= 1"),
    (["--config", "{cfg}", "--seed", "-1"], "--seed must be a non-negative"),
    (["--config", "{bad}"], "kind 'rgb' unknown"),
    (["--config", "{broken}"], "cannot parse data config"),
])
def test_cli_generate_errors(tmp_path, capsys, args, match):
    (tmp_path / "c.yaml").write_text("num_samples: 2\nsamples_per_shard: 2\ncrop_px: 16\n")
    (tmp_path / "bad.yaml").write_text("kind: rgb\n")
    (tmp_path / "broken.yaml").write_text("kind: [dp\n")
    names = {"cfg": tmp_path / "c.yaml", "bad": tmp_path / "bad.yaml", "broken": tmp_path / "broken.yaml"}
    argv = ["data", "generate", "--out", str(tmp_path / "o")] + [a.format(**names) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_cli_stats_errors(tmp_path, capsys):
    assert main(["data", "stats", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "progress.json").write_text("{}")
    assert main(["data", "stats", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unfinished" in err and err.count("\n") == 1


def test_disparity_magnitude_ideal_and_pixel4_variants():
    """Ideal half-pupil split: x_R - x_L = 4c/(3 pi); Pixel 4 (measured response): 0.218 c.

    In stream pixels (pitch 4 native pitches, c_max 2 native pitches): 4/(3 pi) * 2/4 * dof =
    0.212 dof (ideal) and 0.218 * 2/4 * dof = 0.109 dof (Pixel 4, docs/dual_pixel.md). The two
    variants draw the same random numbers, so sample j shows the same scene at the same code.
    """
    base = {**SMALL, "crop_px": 64, "light_lux": [1000.0, 2000.0], "num_samples": 12, "samples_per_shard": 12,
            "textures": [{"source": "dead_leaves"}], "contrast": [1.0, 1.0], "lens_position": {"near_fraction": 0.0}}
    ideal = generate_shard(normalize_config({**base, "variants": {"i": {"family": "ideal"}}}), 0, 0)
    p4 = generate_shard(normalize_config({**base, "variants": {"p": {"family": "pixel4"}}}), 0, 0)
    assert np.array_equal(ideal["lens_code"], p4["lens_code"])
    ratios = []
    for j in np.flatnonzero((np.abs(ideal["defocus_dof"]) >= 4) & (np.abs(ideal["defocus_dof"]) <= 10)):
        dof = float(ideal["defocus_dof"][j])
        d_ideal = _disparity_px(ideal["left"][j], ideal["right"][j], 12)
        d_p4 = _disparity_px(p4["left"][j], p4["right"][j], 12)
        assert d_ideal == pytest.approx(4 / (3 * np.pi) * 0.5 * dof, rel=0.15, abs=0.1)
        ratios.append(d_p4 / d_ideal)
    assert len(ratios) >= 4
    assert np.mean(ratios) == pytest.approx(0.218 / (4 / (3 * np.pi)), abs=0.06)


def test_cli_resume_reports_only_the_new_samples(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("num_samples: 6\nsamples_per_shard: 2\ncrop_px: 16\nlens: {aberration_probability: 0}\n")
    out = tmp_path / "ds"
    argv = ["data", "generate", "--config", str(cfg), "--out", str(out)]
    assert main(argv) == 0
    (out / "shard-00002.npz").unlink()
    (out / "manifest.json").unlink()
    capsys.readouterr()
    assert main(argv) == 0
    assert "(2 generated in" in capsys.readouterr().out
    assert main(argv) == 0
    out_text = capsys.readouterr().out
    assert "(0 generated in" in out_text and "nothing left to generate" in out_text


def test_depth_edge_samples_are_labelled_with_the_near_card():
    from focuslab.af.region_depth import visible_depths_m
    from focuslab.camera import get_camera
    from focuslab.data.generate_samples import centre_crop_roi, draw_subject_m
    from focuslab.data.generate_scene import crop_field, edge_scene

    cfg = normalize_config({**SMALL, "num_samples": 6, "samples_per_shard": 6,
                            "depth_edge": {"probability": 1.0, "gap_diopters": [1.0, 3.0]}})
    s = generate_shard(cfg, 0, 0)
    for j in range(6):
        rng = np.random.default_rng([0, 0, j])
        cam, _ = sample_camera(cfg, rng)
        u = draw_subject_m(cfg, cam, rng)  # the card's distance (the sample's first draws after the camera)
        u_f = cam.focus_distance_m(float(cam.actuator.displacement_um(int(s["lens_code"][j]))))
        expect = 1.0 / u - (0.0 if np.isinf(u_f) else 1.0 / u_f)
        assert s["defocus_diopters"][j] == pytest.approx(expect, abs=0.03)  # the background is >= 1 D away
    # the card covers card_share of the crop (the region's truth then picks it: >= 30 %)
    cam = get_camera("phone_main")
    side, hfov = crop_field(cam, 64, 50.0, 100.0)
    tex = np.full((side, side, 1), 0.5, np.float32)
    for share, horizontal, low in ((0.4, False, True), (0.7, True, False)):
        scene = edge_scene(tex, tex, hfov, 0.5, 2.0, crop_fraction=64 * 1.25 / side, card_share=share,
                           horizontal=horizontal, card_low=low)
        depths = visible_depths_m(cam, scene, centre_crop_roi(cam, 64), t_s=0.0, displacement_um=100.0, samples=64)
        assert np.mean(depths == 0.5) == pytest.approx(share, abs=0.05)


def test_corner_cards_cover_their_share_and_small_cards_are_labelled_with_the_background():
    """A corner card covers card_share of the crop in a corner (a square, both edges); below 30 %
    of the crop the label is the background (the region's truth: nearest subject covering >= 30 %)."""
    from focuslab.af.region_depth import visible_depths_m
    from focuslab.camera import get_camera
    from focuslab.data.generate_samples import centre_crop_roi, draw_subject_m
    from focuslab.data.generate_scene import crop_field, edge_scene

    cam = get_camera("phone_main")
    side, hfov = crop_field(cam, 64, 50.0, 100.0)
    tex = np.full((side, side, 1), 0.5, np.float32)
    for share, horizontal, low in ((0.2, False, True), (0.5, True, False)):
        scene = edge_scene(tex, tex, hfov, 0.5, 2.0, crop_fraction=64 * 1.25 / side, card_share=share,
                           horizontal=horizontal, card_low=low, corner=True)
        a = scene.layers[1].alpha
        rows, cols = np.flatnonzero(a.max(axis=1) > 0.5), np.flatnonzero(a.max(axis=0) > 0.5)
        assert (rows[-1] == a.shape[0] - 1) == (not horizontal) and (cols[0] == 0) == low  # the chosen corner
        depths = visible_depths_m(cam, scene, centre_crop_roi(cam, 64), t_s=0.0, displacement_um=100.0, samples=64)
        assert np.mean(depths == 0.5) == pytest.approx(share, abs=0.05)

    # cards of 5-25 %: every label is the background, >= 1 D behind the card (or at infinity)
    cfg = normalize_config({**SMALL, "num_samples": 4, "samples_per_shard": 4,
                            "depth_edge": {"probability": 1.0, "card_share": [0.05, 0.25], "corner_probability": 0.5,
                                           "gap_diopters": [1.0, 3.0]}})
    s = generate_shard(cfg, 0, 0)
    for j in range(4):
        rng = np.random.default_rng([0, 0, j])
        cam, _ = sample_camera(cfg, rng)
        u = draw_subject_m(cfg, cam, rng)
        u_f = cam.focus_distance_m(float(cam.actuator.displacement_um(int(s["lens_code"][j]))))
        card = 1.0 / u - (0.0 if np.isinf(u_f) else 1.0 / u_f)
        assert s["defocus_diopters"][j] < card - 0.95 * min(1.0, 1.0 / u)  # a background nearer than infinity
    with pytest.raises(InvalidParameterError, match="card_share"):
        normalize_config({**SMALL, "depth_edge": {"card_share": [0.0, 0.5]}})
    with pytest.raises(InvalidParameterError, match="corner_probability"):
        normalize_config({**SMALL, "depth_edge": {"corner_probability": 1.5}})


def test_video_depth_edge_sequences_follow_the_moving_card(monkeypatch):
    """A video sample over a depth edge shows a moving card over a still, farther background and
    is labelled with the card (the region's truth: nearest subject covering >= 30 %): each frame's
    true code is the focus code of the card's depth at that time, not the background's."""
    from focuslab.data import generate_samples

    scenes = []
    real = generate_samples.edge_scene

    def spy(*args, **kwargs):
        scenes.append(real(*args, **kwargs))
        return scenes[-1]

    monkeypatch.setattr(generate_samples, "edge_scene", spy)
    cfg = normalize_config({**SMALL, "kind": "video", "camera": "phone_main_tof", "num_samples": 3,
                            "samples_per_shard": 3, "light_lux": [500.0, 1000.0],
                            "video": {"frames": 4, "speed_diopters_per_s": [3.0, 6.0]},
                            "depth_edge": {"probability": 1.0, "gap_diopters": [1.0, 3.0]}})
    s = generate_shard(cfg, 0, 0)
    assert len(scenes) == 3
    for j, scene in enumerate(scenes):
        cam, _ = sample_camera(cfg, np.random.default_rng([0, 0, j]))  # the sample's randomized camera
        dt = cam.frame_interval_s
        back, card = scene.layers
        assert back.motion is None and card.motion is not None
        card_m = [card.motion.depth_m(k * dt) for k in range(4)]
        assert 1.0 / back.depth_m < min(1.0 / d for d in card_m) - 0.99  # >= 1 D farther than the card
        assert card_m[0] != card_m[-1]
        # the label is the card's focus (half a code of rounding: ~0.01 D), not the background's (>= 1 D off)
        focus = [1.0 / cam.focus_distance_m(float(cam.actuator.displacement_um(round(c))))
                 for c in s["true_code"][j]]
        assert np.allclose(focus, [1.0 / d for d in card_m], atol=0.1), (focus, card_m)


def test_video_cuts_jump_the_truth_once_and_the_lens_holds():
    """``video.jump_probability``: between two frames the subject jumps by jump_diopters (the
    truth steps once, far more than the motion moves it per frame) while the lens stays where it
    was for the frame that first shows the new subject."""
    cfg = normalize_config({**SMALL, "kind": "video", "camera": "phone_main_tof", "num_samples": 4,
                            "samples_per_shard": 4, "light_lux": [500.0, 1000.0],
                            "video": {"frames": 6, "speed_diopters_per_s": [0.0, 1.0], "jump_probability": 1.0,
                                      "jump_diopters": [2.0, 3.0]}})
    s = generate_shard(cfg, 0, 0)
    for true, code in zip(s["true_code"], s["lens_code"], strict=True):
        steps = np.abs(np.diff(true))
        k = int(np.argmax(steps)) + 1
        assert steps[k - 1] > 10 * np.delete(steps, k - 1).max(), true
        assert code[k] == code[k - 1], (k, code)
    with pytest.raises(InvalidParameterError, match=r"video\.jump_probability"):
        normalize_config({**SMALL, "kind": "video", "camera": "phone_main_tof", "video": {"jump_probability": 1.5}})


def test_video_far_starts_rest_the_lens_far_from_focus_then_track():
    """``video.start_far_probability``: the lens starts anywhere in its range and rests there for
    the first frames (the defocus then reaches far beyond the tracking error), then tracks."""
    cfg = normalize_config({**SMALL, "kind": "video", "camera": "phone_main_tof", "num_samples": 6,
                            "samples_per_shard": 6, "light_lux": [500.0, 1000.0],
                            "video": {"frames": 5, "speed_diopters_per_s": [0.0, 0.5], "tracking_error_dof": [0.0, 0.5],
                                      "start_far_probability": 1.0}})
    s = generate_shard(cfg, 0, 0)
    first = np.abs(s["defocus_dof"][:, 0])
    assert (first > 1.0).sum() >= 4 and first.max() > 8.0, first  # tracking alone stays within 0.5 DoF
    off = np.abs(s["lens_code"][:, 0] - s["true_code"][:, 0])
    assert (off > 0.5 * 17 + 1).sum() >= 4, off  # frame 0's lens was not commanded onto the subject
    for code, true in zip(s["lens_code"], s["true_code"], strict=True):
        assert code[1] == code[0] or abs(code[1] - true[1]) <= 0.5 * 17 + 1  # rested, or tracking from frame 1
        assert abs(code[-1] - true[-1]) <= 0.5 * 17 + 1, (code, true)  # commanded onto the subject at the end
    with pytest.raises(InvalidParameterError, match=r"video\.start_far_probability"):
        normalize_config({**SMALL, "kind": "video", "camera": "phone_main_tof",
                          "video": {"start_far_probability": -0.1}})


@pytest.mark.parametrize("camera", ["phone_main", "no_pdaf"])
def test_signal_electrons_follow_the_camera_photometry(camera):
    """On a uniform 45 % grey plane, the green pixels of the crop hold what the camera equation gives.

    Truth: :func:`focuslab.bench.suites.grey_electrons_per_pixel` (camera equation, QE, green
    response, auto-exposure) x (g_L + g_R) / 2 for a dual-pixel sensor (each photodiode takes
    half the pupil times its gain, docs/dual_pixel.md eq. 1) x 1 / (1 + m)^2 (working f-number
    at magnification m). The label is mean(crop) x (white - black) x e/DN / analogue gain. At 3
    lux the AE's 16x analogue gain keeps the binned stream's ~100 e-/DN from quantizing a mean
    of a few DN (it did before the gain: bright light only then).
    """
    from focuslab.af.backends import SimulatorBackend
    from focuslab.bench.suites import grey_electrons_per_pixel
    from focuslab.camera import get_camera
    from focuslab.data.generate_samples import centre_crop_roi, labels
    from focuslab.data.generate_scene import plane_scene

    cam = get_camera(camera)
    st = cam.stream_sensor
    e_per_unit = (st.white_level_dn - st.black_level_dn) * st.e_per_dn
    dp = cam.psf.dp_response
    gain = 0.5 * (dp.left_gain + dp.right_gain) if cam.has_dual_pixel else 1.0
    code = cam.focus_code_for_distance(1.0)
    m = cam.lens.focal_length_mm / (1000.0 - cam.lens.focal_length_mm)
    green = np.tile(np.array([[0, 1], [1, 0]], bool), (32, 32))  # RGGB and BGGR: greens off the diagonal
    for lux in (3.0, 100.0, 1000.0):
        scene = plane_scene(np.full((200, 200, 1), 0.45, np.float32), 12.0, 1.0)
        be = SimulatorBackend(cam, scene, roi=centre_crop_roi(cam, 64), illuminance_lux=lux, seed=1,
                              initial_code=code)
        obs = be.observe(0, 0.0)
        assert obs.cfa in ("RGGB", "BGGR")
        assert obs.analog_gain == be.analog_gain and (be.analog_gain == 16.0) == (lux == 3.0)
        lab = labels(be, 0.0, code, obs.image)
        unit = e_per_unit / be.analog_gain
        assert lab["signal_electrons"] == pytest.approx(float(np.mean(obs.image)) * unit, rel=1e-6)
        e_green = float(np.mean(obs.image[green])) * unit
        expect = grey_electrons_per_pixel(cam, lux, reflectance=0.45) * gain / (1.0 + m) ** 2
        assert e_green == pytest.approx(expect, rel=0.015)


def test_far_fraction_puts_the_lens_far_from_focus_and_is_validated():
    """``lens_position.far_fraction``: those samples lie ``far_dof`` from focus (or at an end of
    the code range, where the clip stops them); 0 (the default) draws nothing extra, so the
    other samples of a set keep their random stream."""
    cfg = normalize_config({**SMALL, "crop_px": 32, "num_samples": 12, "samples_per_shard": 12,
                            "lens_position": {"near_fraction": 0.0, "far_fraction": 1.0, "far_dof": [20.0, 30.0]}})
    d = np.abs(generate_shard(cfg, 0, 0)["defocus_dof"])
    # the others are subjects the lens cannot put 20 DoF away on the drawn side (the code nearest
    # the target is an end of the randomized camera's range); a uniform draw gives ~1 in 12 here
    assert np.sum((d >= 18.0) & (d <= 32.0)) >= 7, d
    uniform_d = np.abs(generate_shard({**cfg, "lens_position": {**cfg["lens_position"], "far_fraction": 0.0}},
                                      0, 0)["defocus_dof"])
    assert np.sum(uniform_d >= 18.0) <= 4, uniform_d
    with pytest.raises(InvalidParameterError, match="near_fraction \\+ far_fraction must be <= 1"):
        normalize_config({"lens_position": {"near_fraction": 0.6, "far_fraction": 0.6}})
    with pytest.raises(InvalidParameterError, match="far_dof must be"):
        normalize_config({"lens_position": {"far_fraction": 0.5, "far_dof": [-1.0, 5.0]}})



def test_analog_gain_auto_reads_dark_frames_as_the_benchmark_and_unity_as_the_shipped_data():
    """At 3 lux the AE's 16x gain lifts the crop 16-fold in (white - black) units, with the same
    electrons (the labels' signal_electrons agree within 5 %); ``unity`` keeps gain 1."""
    base = {**SMALL, "light_lux": [3.0, 3.0], "num_samples": 4, "samples_per_shard": 4,
            "textures": [{"source": "dead_leaves"}], "contrast": [1.0, 1.0]}
    auto = generate_shard(normalize_config(base), 0, 0)
    unity = generate_shard(normalize_config({**base, "sensor": {"analog_gain": "unity"}}), 0, 0)
    assert np.array_equal(auto["lens_code"], unity["lens_code"])
    ratio = auto["left"].astype(float).mean(axis=(1, 2)) / unity["left"].astype(float).mean(axis=(1, 2))
    assert np.all(np.abs(ratio / 16.0 - 1.0) < 0.25)  # unity's means are a few quantized DN
    # the same electrons either way (measured within 2 %; unity's few-DN means are quantized)
    assert np.allclose(auto["signal_electrons"], unity["signal_electrons"], rtol=0.05)
    for j in range(4):  # a 3-lux crop at unity gain is 3-5 DN levels (~100 e- per DN); 34-61 with the gain
        levels_unity = np.unique(np.round(unity["left"][j].astype(float) * 959)).size  # white - black = 959 DN
        levels_auto = np.unique(np.round(auto["left"][j].astype(float) * 959)).size
        assert levels_unity <= 6 and levels_auto >= 5 * levels_unity
    with pytest.raises(InvalidParameterError, match="analog_gain"):
        normalize_config({**SMALL, "sensor": {"analog_gain": "high"}})
