"""Sensor presets by name, from published figures (source and assumptions in each docstring).

Every preset sets the conversion gain so that the full well maps onto the ADC range above the
black level, ``K = (white - black) / full_well`` DN/e-: the analog gain at which a phone ISP
runs a sensor at base ISO (no clipped headroom left unused, no signal lost before the ADC).
Use :meth:`SensorSpec.binned` for the binned preview modes and :func:`dataclasses.replace`
to change a field (e.g. a higher analog gain = larger ``conversion_gain_dn_per_e``).
"""

from __future__ import annotations

from collections.abc import Callable

from focuslab.registry import Registry
from focuslab.sensor.spec import SensorSpec

_SENSORS: Registry[Callable[[], SensorSpec]] = Registry("sensor preset")


def register_sensor(name: str) -> Callable[[Callable[[], SensorSpec]], Callable[[], SensorSpec]]:
    """Decorator adding a preset factory to the registry under ``name`` (refuses duplicates)."""
    return _SENSORS.register(name)


def sensor_names() -> list[str]:
    """Names of the registered sensor presets, sorted."""
    return _SENSORS.names()


def get_sensor(name: str) -> SensorSpec:
    """The preset ``name`` as a :class:`SensorSpec`.

    Raises
    ------
    UnknownNameError
        When ``name`` is not registered; the message lists the valid names.
    """
    return _SENSORS.get(name)()


def _gain_full_well_to_adc(adc_bits: int, black_level_dn: float, full_well_e: float) -> float:
    """Conversion gain K (DN/e-) mapping the full well onto ``[black, 2**bits - 1]``."""
    return ((1 << adc_bits) - 1 - black_level_dn) / full_well_e


@register_sensor("imx363")
def imx363() -> SensorSpec:
    """Sony IMX363, the 12 MP dual-pixel main camera of the Google Pixel 2/3 (ISETCam model).

    From ISETCam's ``sensorIMX363``: 1.4 um pitch, 4032 x 3024, 10-bit, well capacity
    6000 e-, PRNU 0.7 %, DSNU 0, RGGB; every pixel dual (Pixel dual-pixel AF). Read noise
    5 e- and black level 64 DN (the black level of Pixel 10-bit raw files). Derived
    conversion gain: full well onto the 10-bit range above black,
    K = (1023 - 64) / 6000 = 0.15983 DN/e- (6.257 e-/DN), so a saturated pixel reads 1023.
    Assumed (not in the ISETCam model, which uses measured spectral QE curves): peak QE 0.75,
    relative channel responses R 0.80, G 1.00, B 0.85; dark current 1 e-/s.

    References
    ----------
    ISETCam, ``sensor/sensorIMX363.m`` (Wandell, Farrell et al., Stanford).
    """
    return SensorSpec(
        name="imx363",
        pixel_pitch_um=1.4,
        width_px=4032,
        height_px=3024,
        quantum_efficiency=0.75,
        full_well_e=6000.0,
        read_noise_e=5.0,
        dark_current_e_per_s=1.0,
        prnu_fraction=0.007,
        dsnu_e=0.0,
        adc_bits=10,
        black_level_dn=64.0,
        conversion_gain_dn_per_e=_gain_full_well_to_adc(10, 64.0, 6000.0),
        cfa="RGGB",
        dual_pixel=True,
        fpn_seed=363,
        channel_response=(0.80, 1.0, 0.85),
    )


@register_sensor("tele_1p0um")
def tele_1p0um() -> SensorSpec:
    """A 13 MP 1.0 um 12-bit telephoto-class phone sensor (Samsung S5K3M5 / ISOCELL class).

    1.0 um pitch, 4208 x 3120 (13 MP, the S5K3M5 array used in the Pixel 4 telephoto), 12-bit,
    black level 256 DN. Pixel figures are assumed class values for 1.0 um BSI pixels, not a
    vendor sheet: full well 4500 e-, read noise 2.0 e-, peak QE 0.70, dark current 2 e-/s, PRNU 1 %,
    DSNU 0.5 e-. Its "Super PD" phase detection is modelled as dual pixel. GRBG readout phase.
    Conversion gain K = (4095 - 256) / 4500 = 0.8531 DN/e-.

    References
    ----------
    Samsung ISOCELL product pages (S5K3M5: 13 MP, 1.0 um); pixel-class figures from
    Fontaine, "The state-of-the-art of smartphone imagers", IISW 2019.
    """
    return SensorSpec(
        name="tele_1p0um",
        pixel_pitch_um=1.0,
        width_px=4208,
        height_px=3120,
        quantum_efficiency=0.70,
        full_well_e=4500.0,
        read_noise_e=2.0,
        dark_current_e_per_s=2.0,
        prnu_fraction=0.01,
        dsnu_e=0.5,
        adc_bits=12,
        black_level_dn=256.0,
        conversion_gain_dn_per_e=_gain_full_well_to_adc(12, 256.0, 4500.0),
        cfa="GRBG",
        dual_pixel=True,
        fpn_seed=3005,
        channel_response=(0.80, 1.0, 0.85),
    )


@register_sensor("imx258")
def imx258() -> SensorSpec:
    """Sony IMX258-class 13 MP 1.12 um phone sensor *without* dual pixel (contrast AF only).

    1.12 um pitch, 4208 x 3120, 10-bit, black level 64 DN, BGGR readout phase, no dual pixel
    (the masked-pixel PDAF of some variants is not modelled). Class figures for a 1.12 um BSI
    pixel (assumed): full well 5000 e-, read noise 2.5 e-, peak QE 0.72, dark current 3 e-/s, PRNU 1 %,
    DSNU 1 e-. Conversion gain K = (1023 - 64) / 5000 = 0.1918 DN/e-.

    References
    ----------
    Sony IMX258 product brief (13 MP, 1.12 um, Exmor RS); pixel-class figures from Fontaine,
    IISW 2019.
    """
    return SensorSpec(
        name="imx258",
        pixel_pitch_um=1.12,
        width_px=4208,
        height_px=3120,
        quantum_efficiency=0.72,
        full_well_e=5000.0,
        read_noise_e=2.5,
        dark_current_e_per_s=3.0,
        prnu_fraction=0.01,
        dsnu_e=1.0,
        adc_bits=10,
        black_level_dn=64.0,
        conversion_gain_dn_per_e=_gain_full_well_to_adc(10, 64.0, 5000.0),
        cfa="BGGR",
        dual_pixel=False,
        fpn_seed=258,
        channel_response=(0.80, 1.0, 0.85),
    )


@register_sensor("imx174_mono")
def imx174_mono() -> SensorSpec:
    """Sony IMX174 monochrome global-shutter machine-vision sensor (2.3 MP, 5.86 um).

    1920 x 1200 active pixels, 5.86 um, 12-bit; EMVA 1288 figures published by camera makers
    for this sensor: saturation about 32 500 e-, temporal dark noise about 6.5-7 e-, peak QE
    about 0.76, dark current about 4 e-/s; PRNU 0.5 % and DSNU 2 e- are typical of its
    EMVA sheets. Black level 16 DN (assumed). K = (4095 - 16) / 32500 = 0.1255 DN/e-.

    References
    ----------
    Sony IMX174LLJ data sheet; EMVA 1288 reports for IMX174 cameras (e.g. FLIR Grasshopper3
    GS3-U3-23S6M, Basler acA1920-155um).
    """
    return SensorSpec(
        name="imx174_mono",
        pixel_pitch_um=5.86,
        width_px=1920,
        height_px=1200,
        quantum_efficiency=0.77,
        full_well_e=32500.0,
        read_noise_e=6.5,
        dark_current_e_per_s=4.0,
        prnu_fraction=0.005,
        dsnu_e=2.0,
        adc_bits=12,
        black_level_dn=16.0,
        conversion_gain_dn_per_e=_gain_full_well_to_adc(12, 16.0, 32500.0),
        cfa="mono",
        dual_pixel=False,
        fpn_seed=174,
    )
