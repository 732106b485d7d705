"""focuslab.sensor: the CMOS sensor model (spec, presets, photometry, noise chain, raw frames).

``SensorSpec`` describes the hardware, :func:`photons_per_pixel` turns relative image
irradiance into mean photons, :func:`expose` runs the noise chain (shot, dark, PRNU, DSNU,
read noise, full-well clip, conversion gain, ADC) and returns a :class:`RawFrame`.
"""

from focuslab.sensor.cfa import cfa_at_offset, cfa_channel_index, cfa_masks
from focuslab.sensor.expose import expose
from focuslab.sensor.fpn import fpn_maps
from focuslab.sensor.photometry import (
    BAND_FRACTIONS,
    PHOTONS_PER_LUX_S_M2,
    derive_photon_constants,
    image_plane_illuminance_lux,
    photons_per_pixel,
)
from focuslab.sensor.presets import get_sensor, register_sensor, sensor_names
from focuslab.sensor.raw import RawFrame
from focuslab.sensor.spec import CFA_PATTERNS, BinningMode, SensorSpec

__all__ = [
    "BAND_FRACTIONS",
    "CFA_PATTERNS",
    "PHOTONS_PER_LUX_S_M2",
    "BinningMode",
    "RawFrame",
    "SensorSpec",
    "cfa_at_offset",
    "cfa_channel_index",
    "cfa_masks",
    "derive_photon_constants",
    "expose",
    "fpn_maps",
    "get_sensor",
    "image_plane_illuminance_lux",
    "photons_per_pixel",
    "register_sensor",
    "sensor_names",
]
