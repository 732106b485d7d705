"""focuslab.metrics: image-quality and sharpness measurement, numpy/scipy only.

A user measures an image without the simulator: every function takes numpy arrays
(``H x W`` or ``H x W x C``, linear light unless an ``encoding`` argument says otherwise) and
returns a frozen result with its warnings.

==========================  ===========================================================
module                      what it measures
==========================  ===========================================================
``metrics.sfr``             ISO 12233:2023 e-SFR of a slanted edge (Burns' sfrmat method)
``metrics.charts``          every slanted edge of a chart image, sagittal/meridional field maps
``metrics.acutance``        CPIQ / IEEE 1858 acutance for stated viewing conditions
``metrics.texture``         dead-leaves texture MTF (ISO 19567-2) with noise power subtracted
``metrics.noise``           patch SNR (spatial, temporal) and the noise power spectrum
``metrics.focus``           29 focus measures (Pertuz et al. 2013), vectorised over stacks
``metrics.blur_map``        single-image defocus map (Zhuo & Sim 2011)
``metrics.dp_disparity``    dual-pixel left/right disparity map with confidence
``metrics.rank_metrics``    Spearman's rho and affine-invariant errors for depth/defocus maps
==========================  ===========================================================
"""

from focuslab.metrics.acutance import acutance
from focuslab.metrics.blur_map import defocus_map
from focuslab.metrics.charts import analyze_chart
from focuslab.metrics.dp_disparity import dp_disparity_map
from focuslab.metrics.focus import focus_curve, focus_measure, peak_position
from focuslab.metrics.noise import noise_power_spectrum, patch_snr
from focuslab.metrics.sfr import measure_sfr
from focuslab.metrics.texture import texture_mtf

__all__ = [
    "acutance",
    "analyze_chart",
    "defocus_map",
    "dp_disparity_map",
    "focus_curve",
    "focus_measure",
    "measure_sfr",
    "noise_power_spectrum",
    "patch_snr",
    "peak_position",
    "texture_mtf",
]
