"""focuslab.isp: the minimal image signal processor.

Black level and normalisation, white balance (given or grey-world), demosaicing by name,
3 x 3 colour correction, sRGB encoding, :func:`process_raw` chaining them, and
:func:`read_dng` for real raw files.
"""

from focuslab.isp.black_level import raw_to_linear, subtract_black_level
from focuslab.isp.color_correction import apply_ccm, check_ccm
from focuslab.isp.demosaic import demosaic, demosaic_names, register_demosaic
from focuslab.isp.dng import read_dng
from focuslab.isp.pipeline import process_raw
from focuslab.isp.srgb import srgb_decode, srgb_encode
from focuslab.isp.white_balance import apply_white_balance, channel_means, grey_world_gains

__all__ = [
    "apply_ccm",
    "apply_white_balance",
    "channel_means",
    "check_ccm",
    "demosaic",
    "demosaic_names",
    "grey_world_gains",
    "process_raw",
    "raw_to_linear",
    "read_dng",
    "register_demosaic",
    "srgb_decode",
    "srgb_encode",
    "subtract_black_level",
]
