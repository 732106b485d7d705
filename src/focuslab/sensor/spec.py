"""The image sensor as a frozen hardware description (`SensorSpec`).

The spec holds what a data sheet or an EMVA 1288 report gives: pixel geometry, quantum
efficiency, full-well capacity, temporal and fixed-pattern noise, dark current, the ADC, the
colour filter array and whether every pixel is split into dual-pixel photodiodes. The noise
chain that uses these numbers is :func:`focuslab.sensor.expose.expose`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.units import um_to_mm

#: CFA pattern strings accepted by :class:`SensorSpec` (the colours of the 2x2 block read in
#: row order starting at the top-left pixel), plus ``"mono"`` for a sensor without filters.
CFA_PATTERNS: tuple[str, ...] = ("RGGB", "BGGR", "GRBG", "GBRG", "mono")


class BinningMode(Enum):
    """How :meth:`SensorSpec.binned` combines ``k x k`` same-colour pixels.

    ``CHARGE``: the charges are summed on a shared floating diffusion and read once, so the
    read noise is paid once per binned pixel. ``DIGITAL``: every pixel is read and digitised
    separately and the values are averaged, so ``k^2`` independent read-noise samples add up.
    """

    CHARGE = "charge"
    DIGITAL = "digital"


@dataclass(frozen=True)
class SensorSpec:
    """A CMOS image sensor (DESIGN.md "Physics": the sensor chain).

    Parameters
    ----------
    name
        Label used in reports and by the preset registry.
    pixel_pitch_um
        Pixel pitch, micrometres (> 0).
    width_px, height_px
        Active-array size in pixels (>= 1).
    quantum_efficiency
        Peak quantum efficiency (electrons per incident photon) in (0, 1].
    full_well_e
        Full-well capacity of one pixel, electrons (> 0). With ``dual_pixel`` each of the two
        photodiodes holds half of it.
    read_noise_e
        Temporal read noise, electrons rms (>= 0), per readout.
    dark_current_e_per_s
        Mean dark current, electrons per second per pixel (>= 0).
    prnu_fraction
        Photo-response non-uniformity: rms of the fixed per-pixel gain map divided by its mean
        (>= 0, < 0.5).
    dsnu_e
        Dark-signal non-uniformity: rms of the fixed per-pixel dark offset, electrons (>= 0).
    adc_bits
        ADC resolution, integer 1..16 (raw values are stored as ``uint16``).
    black_level_dn
        Digital offset added to every pixel, DN; must be below the white level.
    conversion_gain_dn_per_e
        System gain K from electrons to digital numbers, DN per electron (> 0), the slope of
        the photon-transfer curve (EMVA 1288 Eq. 9).
    cfa
        Colour filter array: ``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"`` (colours of the
        top-left 2x2 block in row order) or ``"mono"``.
    dual_pixel
        Every pixel is split into a left and a right photodiode (phase-detection AF on every
        pixel, as in Sony IMX363 / Google Pixel sensors).
    fpn_seed
        Seed of the fixed PRNU/DSNU maps of this sensor instance: two captures by the same
        sensor show the same fixed pattern whatever their noise seed.
    channel_response
        Relative spectral response of the R, G and B filtered pixels (each in (0, 1]); the
        effective QE of a pixel under filter ``c`` is ``quantum_efficiency *
        channel_response[c]``. Ignored for ``cfa="mono"``.
    max_analog_gain
        Largest analogue gain of the readout (x, >= 1): the factor by which the auto exposure
        may raise ``conversion_gain_dn_per_e`` once the exposure time is capped by the frame
        rate (:func:`focuslab.camera.exposure.auto_analog_gain`). 16x (24 dB) by default, the
        analogue range of current mobile CMOS sensors; any further gain is digital and adds
        no information, so it is not modelled.

    Raises
    ------
    InvalidParameterError
        When a field is out of its physical or allowed range.
    """

    name: str
    pixel_pitch_um: float
    width_px: int
    height_px: int
    quantum_efficiency: float
    full_well_e: float
    read_noise_e: float
    dark_current_e_per_s: float
    prnu_fraction: float
    dsnu_e: float
    adc_bits: int
    black_level_dn: float
    conversion_gain_dn_per_e: float
    cfa: str = "RGGB"
    dual_pixel: bool = False
    fpn_seed: int = 0
    channel_response: tuple[float, float, float] = (1.0, 1.0, 1.0)
    max_analog_gain: float = 16.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError("SensorSpec.name must be a non-empty string")
        check_positive("pixel_pitch_um", self.pixel_pitch_um)
        for field in ("width_px", "height_px"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidParameterError(f"{field} must be an integer >= 1, got {v!r}")
        qe = check_positive("quantum_efficiency", self.quantum_efficiency)
        if qe > 1.0:
            raise InvalidParameterError(f"quantum_efficiency must be in (0, 1], got {qe}")
        check_positive("full_well_e", self.full_well_e)
        check_positive("read_noise_e", self.read_noise_e, allow_zero=True)
        check_positive("dark_current_e_per_s", self.dark_current_e_per_s, allow_zero=True)
        prnu = check_positive("prnu_fraction", self.prnu_fraction, allow_zero=True)
        if prnu >= 0.5:
            raise InvalidParameterError(
                f"prnu_fraction {prnu} is not a plausible gain non-uniformity; use a value < 0.5"
            )
        check_positive("dsnu_e", self.dsnu_e, allow_zero=True)
        bits = self.adc_bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
            raise InvalidParameterError(f"adc_bits must be an integer in 1..16, got {bits!r}")
        black = check_positive("black_level_dn", self.black_level_dn, allow_zero=True)
        if black >= self.white_level_dn:
            raise InvalidParameterError(
                f"black_level_dn {black} must be below the white level {self.white_level_dn} "
                f"of a {bits}-bit ADC; lower the black level or raise adc_bits"
            )
        check_positive("conversion_gain_dn_per_e", self.conversion_gain_dn_per_e)
        if self.cfa not in CFA_PATTERNS:
            raise InvalidParameterError(f"unknown cfa {self.cfa!r}; use one of {', '.join(CFA_PATTERNS)}")
        if not isinstance(self.dual_pixel, bool):
            raise InvalidParameterError(f"dual_pixel must be True or False, got {self.dual_pixel!r}")
        if isinstance(self.fpn_seed, bool) or not isinstance(self.fpn_seed, int) or self.fpn_seed < 0:
            raise InvalidParameterError(f"fpn_seed must be an integer >= 0, got {self.fpn_seed!r}")
        resp = tuple(self.channel_response)
        if len(resp) != 3:
            raise InvalidParameterError(f"channel_response needs 3 values (R, G, B), got {len(resp)}")
        for v in resp:
            r = check_positive("channel_response", v)
            if r > 1.0:
                raise InvalidParameterError(f"channel_response values must be in (0, 1], got {v}")
        object.__setattr__(self, "channel_response", tuple(float(v) for v in resp))
        g = check_positive("max_analog_gain", self.max_analog_gain)
        if g < 1.0:
            raise InvalidParameterError(f"max_analog_gain must be >= 1 (1 = no analogue gain), got {g}")

    # --- ADC ---------------------------------------------------------------------------------
    @property
    def white_level_dn(self) -> int:
        """Largest raw value, ``2**adc_bits - 1`` DN."""
        return (1 << int(self.adc_bits)) - 1

    @property
    def e_per_dn(self) -> float:
        """Inverse conversion gain 1/K, electrons per DN."""
        return 1.0 / self.conversion_gain_dn_per_e

    @property
    def adc_full_scale_e(self) -> float:
        """Signal that reaches the white level above black, electrons: (white - black) / K."""
        return (self.white_level_dn - self.black_level_dn) / self.conversion_gain_dn_per_e

    @property
    def saturation_e(self) -> float:
        """Largest recordable signal, electrons: the smaller of full well and ADC full scale."""
        return min(float(self.full_well_e), self.adc_full_scale_e)

    # --- geometry ----------------------------------------------------------------------------
    @property
    def shape_px(self) -> tuple[int, int]:
        """Array shape ``(height_px, width_px)``."""
        return (self.height_px, self.width_px)

    @property
    def size_mm(self) -> tuple[float, float]:
        """Active-area size ``(width_mm, height_mm)``."""
        pitch_mm = float(um_to_mm(self.pixel_pitch_um))
        return (self.width_px * pitch_mm, self.height_px * pitch_mm)

    @property
    def diagonal_mm(self) -> float:
        """Active-area diagonal, millimetres."""
        w, h = self.size_mm
        return math.hypot(w, h)

    @property
    def is_mono(self) -> bool:
        """True when the sensor has no colour filter array."""
        return self.cfa == "mono"

    # --- performance figures -----------------------------------------------------------------
    @property
    def dynamic_range_db(self) -> float:
        """Dynamic range 20 log10(saturation / read noise), dB (EMVA 1288 Eq. 22 style).

        The temporal dark noise used is the read noise in quadrature with the ADC's
        quantization noise (1/12 DN^2, expressed in electrons), so a noiseless sensor still has
        a finite dynamic range.
        """
        dark_e = math.sqrt(self.read_noise_e**2 + (1.0 / 12.0) * self.e_per_dn**2)
        return 20.0 * math.log10(self.saturation_e / dark_e)

    @property
    def snr_max_db(self) -> float:
        """Largest shot-noise-limited SNR, 20 log10(sqrt(saturation_e)), dB."""
        return 10.0 * math.log10(self.saturation_e)

    # --- readout modes -----------------------------------------------------------------------
    def binned(self, factor: int, *, mode: BinningMode = BinningMode.CHARGE) -> SensorSpec:
        """Spec of the ``factor x factor`` binned readout mode (AF preview streams are binned).

        Parameters
        ----------
        factor
            Bin size k (integer >= 1; 1 returns an equal spec). Binning combines ``k x k``
            pixels *of the same colour*, so a Bayer sensor keeps its CFA pattern at 1/k the
            resolution, and the binned pixel behaves as one pixel of pitch ``k * pitch``.
        mode
            :class:`BinningMode`: charge summing (read once) or digital averaging (k^2 reads).

        Returns
        -------
        SensorSpec
            The binned mode as a sensor of its own (name ``"<name>_bin<k>"``), usable with
            :func:`~focuslab.sensor.expose.expose` directly.

        Raises
        ------
        InvalidParameterError
            When ``factor`` is not an integer >= 1 or larger than the array.

        Notes
        -----
        With ``n = k^2`` pixels combined, signal and shot noise grow as ``n`` and ``sqrt(n)``
        (the pitch ``k * p`` collects ``n`` times the photons), the full well is ``n * FW``,
        the dark current ``n * I_d``, the DSNU ``sqrt(n) * dsnu`` electrons and the PRNU
        ``prnu / sqrt(n)`` (independent pixel maps averaged). The read noise is ``sigma_r``
        for charge binning and ``sqrt(n) * sigma_r`` for digital binning (sum of ``n``
        independent reads). In both modes the output is scaled as an average, so the
        conversion gain becomes ``K / n`` and the binned full well still maps onto the same
        DN range. The fixed-pattern maps of the binned spec are statistically equivalent to,
        not pixel-for-pixel the aggregate of, the full-resolution maps.

        References
        ----------
        EMVA Standard 1288, Release 4.0 (2021), Sec. 4 (linear sensor model).
        """
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise InvalidParameterError(f"binning factor must be an integer >= 1, got {factor!r}")
        if factor > min(self.width_px, self.height_px):
            raise InvalidParameterError(
                f"binning factor {factor} exceeds the {self.width_px}x{self.height_px} array; "
                "use a smaller factor"
            )
        if not isinstance(mode, BinningMode):
            raise InvalidParameterError(f"mode must be a BinningMode, got {mode!r}")
        if factor == 1:
            return self
        n = factor * factor
        read = self.read_noise_e if mode is BinningMode.CHARGE else self.read_noise_e * factor
        return replace(
            self,
            name=f"{self.name}_bin{factor}",
            pixel_pitch_um=self.pixel_pitch_um * factor,
            width_px=self.width_px // factor,
            height_px=self.height_px // factor,
            full_well_e=self.full_well_e * n,
            read_noise_e=read,
            dark_current_e_per_s=self.dark_current_e_per_s * n,
            prnu_fraction=self.prnu_fraction / factor,
            dsnu_e=self.dsnu_e * factor,
            conversion_gain_dn_per_e=self.conversion_gain_dn_per_e / n,
        )
