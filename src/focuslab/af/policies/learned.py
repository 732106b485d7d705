"""The learned AF policies (issue 5): importing this module registers them.

* ``learned-dp`` (:mod:`.learned_dp`): dual-pixel network, predict / jump / confirm;
* ``learned-two-frame`` (:mod:`.learned_two_frame`): two frames at known codes, no dual pixel;
* ``learned-fusion`` (:mod:`.learned_fusion`): dual pixel + depth zones + lens state;
* ``learned-video`` (:mod:`.learned_video`): the recurrent network for video, no hunting.

They load the shipped weights (:mod:`focuslab.models`) lazily at their first reset and fail
with one line when the weights are missing (:mod:`.learned_weights`).
"""

from focuslab.af.policies import learned_dp, learned_fusion, learned_two_frame, learned_video  # noqa: F401
