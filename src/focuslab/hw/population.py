"""A simulated production population of camera modules, with rare faulty units and their truth.

Every unit draws its assembly errors from normal distributions with data-sheet-like sigmas
(:data:`GOOD_SIGMAS`: sensor tilt 0.05 deg per axis, lens decenter 30 um per axis, back focus
3 um, extra field curvature 2 um; read noise +-5 %; a few isolated defect pixels), the
tolerances that active-alignment module lines hold to about 3 sigma (tilt +-0.15 deg,
decenter +-0.1 mm, e.g. the process windows quoted for AA machines). A fraction of units is
faulty with one fault each (:data:`FAULT_KINDS`):

* ``tilt``: sensor tilt 0.35-0.7 deg in a random direction (bonding failure);
* ``decenter``: lens decenter 250-450 um (barrel shifted in its holder);
* ``back_focus``: back-focus error +-(20-35) um (glue shrinkage, wrong spacer);
* ``dust``: 1-3 particles on the sensor cover glass, shadows of 15-40 % depth, sigma 4-12 px;
* ``defects``: ~300 defect pixels (hot: white; dead: black; stuck: a quarter of full scale)
  plus 3 clusters of 3 x 3 hot pixels;
* ``noise``: read noise 4-8 times nominal (a bad ADC / readout channel).

Each unit is imaged like a qualification station does: a short through-focus series of the
multi-edge chart (:mod:`focuslab.hw.module_render`, Gaussian PSF), a flat field pair and a
dark frame; dust attenuates the light reaching the pixels, defects replace pixel values.
Everything is drawn from one seed: same seed, same population, same frames.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.module_render import optical_image
from focuslab.sensor.expose import expose

FAULT_KINDS = ("tilt", "decenter", "back_focus", "dust", "defects", "noise")
#: Sigmas of the good population (per axis for tilt and decenter).
GOOD_SIGMAS = {"tilt_deg": 0.05, "decenter_um": 30.0, "back_focus_um": 3.0, "field_curvature_um": 2.0,
               "read_noise_fraction": 0.05}
#: Mean number of isolated defect pixels of a good unit.
GOOD_DEFECTS_MEAN = 3.0
#: Flat-field level, fraction of the full well.
FLAT_FRACTION = 0.5


@dataclass(frozen=True)
class Dust:
    """A dust shadow: centre (x, y) px, Gaussian sigma px, depth (fractional attenuation at the centre)."""

    x_px: float
    y_px: float
    sigma_px: float
    depth: float


@dataclass(frozen=True)
class ModuleUnit:
    """One unit of the population: its build, sensor condition and truth label."""

    index: int
    build: ModuleBuild
    read_noise_factor: float
    defect_pixels: tuple[tuple[int, int, str], ...]
    dust: tuple[Dust, ...]
    fault: str | None
    seed: int

    @property
    def faulty(self) -> bool:
        return self.fault is not None


def _defects(rng: np.random.Generator, n: int, shape: tuple[int, int], clusters: int = 0):
    h, w = shape
    kinds = rng.choice(["hot", "dead", "stuck"], size=n)
    out = [(int(rng.integers(0, w)), int(rng.integers(0, h)), str(k)) for k in kinds]
    for _ in range(clusters):
        cx, cy = int(rng.integers(2, w - 2)), int(rng.integers(2, h - 2))
        out += [(cx + dx, cy + dy, "hot") for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return tuple(out)


def sample_population(design: ModuleDesign, n_modules: int, *, faulty_fraction: float = 0.05,
                      seed: int = 0) -> tuple[ModuleUnit, ...]:
    """Draw ``n_modules`` units; round(faulty_fraction * n) of them faulty (kinds in turn, shuffled)."""
    if isinstance(n_modules, bool) or not isinstance(n_modules, int | np.integer) or n_modules < 1:
        raise InvalidParameterError(f"the population needs at least 1 module, got {n_modules!r}")
    if not 0.0 <= float(faulty_fraction) <= 1.0:
        raise InvalidParameterError(f"faulty_fraction must be in [0, 1], got {faulty_fraction}")
    rng = np.random.default_rng(seed)
    n_faulty = round(faulty_fraction * n_modules)
    faults = [FAULT_KINDS[i % len(FAULT_KINDS)] for i in range(n_faulty)] + [None] * (n_modules - n_faulty)
    order = rng.permutation(n_modules)
    shape = (design.sensor.height_px, design.sensor.width_px)
    g = GOOD_SIGMAS
    units = []
    for i in range(n_modules):
        fault = faults[order[i]]
        tx, ty = rng.normal(0.0, g["tilt_deg"], 2)
        dx, dy = rng.normal(0.0, g["decenter_um"], 2)
        bf = rng.normal(0.0, g["back_focus_um"])
        fc = rng.normal(0.0, g["field_curvature_um"])
        rn = max(rng.normal(1.0, g["read_noise_fraction"]), 0.5)
        defects = _defects(rng, int(rng.poisson(GOOD_DEFECTS_MEAN)), shape)
        dust: tuple[Dust, ...] = ()
        az = rng.uniform(0.0, 2.0 * math.pi)
        if fault == "tilt":
            m = rng.uniform(0.35, 0.7)
            tx, ty = m * math.cos(az), m * math.sin(az)
        elif fault == "decenter":
            m = rng.uniform(250.0, 450.0)
            dx, dy = m * math.cos(az), m * math.sin(az)
        elif fault == "back_focus":
            bf = rng.choice([-1.0, 1.0]) * rng.uniform(20.0, 35.0)
        elif fault == "dust":
            dust = tuple(Dust(float(rng.uniform(40, shape[1] - 40)), float(rng.uniform(40, shape[0] - 40)),
                              float(rng.uniform(4.0, 12.0)), float(rng.uniform(0.15, 0.4)))
                         for _ in range(int(rng.integers(1, 4))))
        elif fault == "defects":
            defects = _defects(rng, int(rng.poisson(300)), shape, clusters=3)
        elif fault == "noise":
            rn = rng.uniform(4.0, 8.0)
        build = ModuleBuild(float(tx), float(ty), float(dx), float(dy), float(bf), float(fc))
        units.append(ModuleUnit(i, build, float(rn), defects, dust, fault, int(rng.integers(0, 2**31 - 1))))
    return tuple(units)


def dust_transmission(dust: tuple[Dust, ...], shape: tuple[int, int]) -> np.ndarray:
    """Fraction of light passing the cover glass at each pixel: prod(1 - depth exp(-r^2 / 2 sigma^2))."""
    t = np.ones(shape)
    if not dust:
        return t
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    for d in dust:
        t *= 1.0 - d.depth * np.exp(-((xx - d.x_px) ** 2 + (yy - d.y_px) ** 2) / (2.0 * d.sigma_px**2))
    return t


def _apply_defects(raw: np.ndarray, unit: ModuleUnit, white_dn: int, black_dn: float) -> np.ndarray:
    out = raw.copy()
    for x, y, kind in unit.defect_pixels:
        if 0 <= y < out.shape[0] and 0 <= x < out.shape[1]:
            out[y, x] = white_dn if kind == "hot" else (int(black_dn) if kind == "dead" else white_dn // 4)
    return out


def unit_sensor(design: ModuleDesign, unit: ModuleUnit):
    """The unit's sensor: the design's with its read noise."""
    return dataclasses.replace(design.sensor, read_noise_e=design.sensor.read_noise_e * unit.read_noise_factor)


def _expose(design: ModuleDesign, unit: ModuleUnit, irradiance_rel: np.ndarray, seed: int) -> np.ndarray:
    spec = unit_sensor(design, unit)
    photons = irradiance_rel * spec.full_well_e / spec.quantum_efficiency
    raw = np.asarray(expose(spec, photons, exposure_s=0.01, seed=seed).data)
    return _apply_defects(raw, unit, spec.white_level_dn, spec.black_level_dn)


def capture_unit(design: ModuleDesign, unit: ModuleUnit, lens_positions_um, *, samples_per_px: int = 2,
                 exposure_fraction: float = 0.6) -> dict[str, object]:
    """The unit's captures: ``{"chart": [raw per lens position], "flat": (a, b), "dark": raw}``."""
    shape = (design.sensor.height_px, design.sensor.width_px)
    trans = dust_transmission(unit.dust, shape)
    charts = []
    for i, pos in enumerate(lens_positions_um):
        irr = optical_image(design, unit.build, float(pos), samples_per_px=samples_per_px, psf_model="gaussian")
        charts.append(_expose(design, unit, irr / 0.8 * exposure_fraction * trans, unit.seed + i))
    return {"chart": charts, **capture_sensor_frames(design, unit, transmission=trans)}


def capture_sensor_frames(design: ModuleDesign, unit: ModuleUnit, *, transmission: np.ndarray | None = None) -> dict:
    """The unit's flat-field pair (at :data:`FLAT_FRACTION` of full well, through its dust) and dark frame."""
    shape = (design.sensor.height_px, design.sensor.width_px)
    trans = dust_transmission(unit.dust, shape) if transmission is None else transmission
    flat = tuple(_expose(design, unit, np.full(shape, FLAT_FRACTION) * trans, unit.seed + 100 + k) for k in (0, 1))
    dark = _expose(design, unit, np.zeros(shape), unit.seed + 200)
    return {"flat": flat, "dark": dark}
