"""Run metrics on hand-made trajectories: definitions checked against counts done by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from focuslab.af.loop import FrameRecord
from focuslab.af.run_metrics import (
    compute_run_metrics,
    count_reversals,
    final_approach,
    frames_to_focus,
    overshoot,
    subject_change_split,
)
from focuslab.errors import InvalidParameterError

DT = 1.0 / 30.0


def records(true_codes, errors, commands, *, exposure_s=0.01, frames_err=None):
    out = []
    for i, (x, e, c) in enumerate(zip(true_codes, errors, commands, strict=True)):
        out.append(
            FrameRecord(
                index=i,
                t_s=i * DT,
                exposure_s=exposure_s,
                lens_code=0,
                command_code=c,
                reported_code=float(x),
                lens_code_true=float(x),
                best_code=100.0,
                focus_error_dof=e,
                focus_error_frames=None if frames_err is None else frames_err[i],
                done=False,
            )
        )
    return out


def test_reversals_count_sign_changes_and_ignore_repeats():
    assert count_reversals([0, 10, 20, 20, 30]) == 0
    assert count_reversals([0, 10, 5]) == 1
    assert count_reversals([0, 10, 5, 12, 8, 8, 9]) == 4
    assert count_reversals([5]) == 0


def test_frames_to_focus_first_frame_of_the_final_in_focus_run():
    assert frames_to_focus([5.0, 2.0, 0.5, 0.4]) == 3
    assert frames_to_focus([0.5, 3.0, 0.5, 0.9]) == 3  # left focus at frame 1: counts from frame 2
    assert frames_to_focus([0.2]) == 1
    assert frames_to_focus([0.2, 1.5]) is None
    assert frames_to_focus([1.0]) == 1  # the boundary is in focus (<= 1)


def test_overshoot_beyond_final_position_in_direction_of_travel():
    assert overshoot([0, 80, 112, 104, 100]) == pytest.approx(12.0)
    assert overshoot([100, 20, -5, 0]) == pytest.approx(5.0)
    assert overshoot([0, 50, 100]) == 0.0
    assert overshoot([3, 3, 3]) == 0.0


def test_final_approach_starts_at_the_last_monotone_run_of_commands():
    # initial 0, then commands after frames 0,1,2 (up), 5 (down), 7 (up)
    assert final_approach([0, 1, 2, 5, 7], [0, 10, 20, 30, 15, 18]) == (7, 1.0)
    assert final_approach([0, 1], [0, 10, 20]) == (0, 1.0)
    assert final_approach([], [0]) == (0, 0.0)


def test_stills_metrics_of_a_hand_made_run():
    x = [0, 60, 110, 104, 100, 100]
    e = [5.0, 2.0, 0.9, 0.3, 0.1, 0.1]
    c = [100, None, None, None, None, None]
    m = compute_run_metrics(records(x, e, c), frame_interval_s=DT, initial_code=0, done_frame=4)
    assert m.final_error == pytest.approx(0.1) and m.error_unit == "dof" and m.in_focus
    assert m.frames_to_focus == 3
    assert m.ms_to_focus == pytest.approx(1000 * (2 * DT + 0.01))
    assert m.lens_travel_codes == pytest.approx(60 + 50 + 6 + 4)
    assert m.overshoot_codes == pytest.approx(10.0)
    assert m.reversals == 0 and m.done and m.frames == 6
    assert m.rms_error is None and m.jerk_codes_per_s3 is None


def test_hunting_counted_from_commands_and_overshoot_of_final_approach_only():
    x = [0, 50, 100, 150, 120, 95, 100, 100]
    e = [4, 3, 1.5, 2.0, 1.2, 0.4, 0.2, 0.2]
    c = [50, 100, 150, 120, 95, 100, None, None]
    m = compute_run_metrics(records(x, e, c), frame_interval_s=DT, initial_code=0, done_frame=None)
    assert m.reversals == 2  # up, down, up
    assert m.overshoot_codes == pytest.approx(0.0)  # the sweep's 150 is travel, not overshoot
    assert not m.done and m.final_error == pytest.approx(0.2)
    assert m.frames_to_focus == 6


def test_video_metrics():
    x = [0, 0, 0, 1, 0, 0]  # a unit bump: third differences 1, -3, 3
    e = [0.0, 2.0, 0.0, 0.0, 3.0, 0.0]
    c = [None] * 6
    m = compute_run_metrics(records(x, e, c), frame_interval_s=DT, initial_code=0, done_frame=None, video=True)
    assert m.rms_error == pytest.approx(math.sqrt((4 + 9) / 6))
    assert m.rms_error_dof == m.rms_error
    assert m.time_out_of_focus_s == pytest.approx(2 * DT)
    assert m.jerk_codes_per_s3 == pytest.approx(math.sqrt((1 + 9 + 9) / 3) / DT**3)


def _per16(_code):
    return 1.0 / 16.0  # 16 codes per DoF


def test_subject_change_split_by_hand():
    # the truth jumps by 100 codes = 6.25 DoF at frame 3; back in focus at frame 5 (3 frames, 3..5)
    b = [100, 100, 100, 200, 200, 200, 200]
    e = [0.0, 0.2, 0.1, 6.0, 2.0, 0.5, 0.3]
    n, wait, tracking = subject_change_split(e, b, _per16)
    assert n == 1
    assert wait == 3.0
    assert tracking == pytest.approx(math.sqrt((0.0 + 0.04 + 0.01 + 0.25 + 0.09) / 5))


def test_subject_change_split_threshold_and_drift():
    # a 2.5-DoF jump counts, a 1.9-DoF one and a steady drift of 1 DoF per frame do not
    assert subject_change_split([0.0, 3.0, 0.5], [100, 140, 140], _per16)[0] == 1
    assert subject_change_split([0.0, 3.0, 0.5], [100, 130.4, 130.4], _per16)[0] == 0
    drift = [100 + 16 * i for i in range(6)]
    n, wait, tracking = subject_change_split([1.2] * 6, drift, _per16)
    assert (n, wait) == (0, None)
    assert tracking == pytest.approx(1.2)  # no change: the tracking RMS is the RMS
    # the jump's size uses the mean of its two ends' DoF per code: 40 codes at 1/16 and 1/24 -> 2.08 DoF
    varying = lambda c: 1.0 / 16.0 if c < 120 else 1.0 / 24.0  # noqa: E731
    assert subject_change_split([0.0, 3.0], [100, 140], varying)[0] == 1
    assert subject_change_split([0.0, 3.0], [100, 136], varying)[0] == 0  # 1.88 DoF


def test_subject_change_never_reacquired_and_two_changes():
    # never back in focus: the wait runs to the clip's end (a lower bound), no frame of it tracks
    n, wait, tracking = subject_change_split([0.3, 4.0, 3.0, 2.0], [100, 180, 180, 180], _per16)
    assert (n, wait) == (1, 3.0)
    assert tracking == pytest.approx(0.3)
    # two changes: the first window closes at the second change (2 frames, never in focus), the
    # second is re-acquired at once (1 frame)
    e = [0.1, 5.0, 4.0, 0.4, 0.2]
    n, wait, tracking = subject_change_split(e, [100, 200, 200, 100, 100], _per16)
    assert n == 2 and wait == pytest.approx((2 + 1) / 2)
    assert tracking == pytest.approx(math.sqrt((0.01 + 0.16 + 0.04) / 3))
    with pytest.raises(InvalidParameterError, match="one truth code per error"):
        subject_change_split([0.0, 1.0], [100.0], _per16)


def test_video_metrics_take_the_rms_apart_when_dof_per_code_is_known():
    recs = records([100, 100, 100, 100], [0.0, 0.2, 0.4, 0.1], [None] * 4)
    recs = [r if i < 2 else replace(r, best_code=180.0) for i, r in enumerate(recs)]  # a pan at frame 2
    m = compute_run_metrics(recs, frame_interval_s=DT, initial_code=100, done_frame=None, video=True,
                            dof_per_code_at=_per16)
    assert m.subject_changes == 1 and m.reacquire_frames == 1.0
    assert m.tracking_rms_error_dof == pytest.approx(m.rms_error_dof)  # in focus at once: nothing left out
    bare = compute_run_metrics(recs, frame_interval_s=DT, initial_code=100, done_frame=None, video=True)
    assert bare.subject_changes is None and bare.tracking_rms_error_dof is None


def test_replay_errors_in_frames_when_dof_unknown():
    x = [0, 1, 2]
    m = compute_run_metrics(
        records(x, [None, None, None], [1, 2, None], frames_err=[2.0, 1.0, 0.3]),
        frame_interval_s=DT,
        initial_code=0,
        done_frame=2,
    )
    assert m.error_unit == "frames" and m.final_error_dof is None
    assert m.final_error == pytest.approx(0.3) and m.in_focus and m.frames_to_focus == 2


def test_overshoot_in_dof_and_json_ready_dict():
    x = [0, 110, 100]
    m = compute_run_metrics(
        records(x, [3, 0.5, 0.1], [100, None, None]),
        frame_interval_s=DT,
        initial_code=0,
        done_frame=2,
        dof_per_code=0.05,
    )
    assert m.overshoot_dof == pytest.approx(0.5)
    d = m.to_dict()
    assert d["overshoot_codes"] == pytest.approx(10.0) and d["error_unit"] == "dof"


def test_bad_records():
    with pytest.raises(InvalidParameterError):
        compute_run_metrics([], frame_interval_s=DT, initial_code=0, done_frame=None)
    with pytest.raises(InvalidParameterError):
        compute_run_metrics(records([0], [None], [None]), frame_interval_s=DT, initial_code=0, done_frame=None)
