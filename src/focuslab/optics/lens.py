"""The lens as a frozen hardware description."""

from __future__ import annotations

from dataclasses import dataclass

from focuslab.errors import InvalidParameterError, check_positive


@dataclass(frozen=True)
class LensSpec:
    """A thin lens (DESIGN.md "Physics").

    Parameters
    ----------
    focal_length_mm
        Effective focal length f in millimetres (> 0).
    f_number
        Working f-number N = f / A at infinity focus; >= 0.5 (the limit for a lens in air,
        N = 1 / (2 NA) with NA <= 1).
    min_focus_distance_m
        Nearest focus distance the module reaches (macro limit), metres; must exceed f.
    transmission
        Fraction of light transmitted by the optics, in (0, 1].
    aperture_blades
        Number of straight iris blades (polygonal aperture); ``None`` for a circular stop
        (phone lenses have a fixed circular stop).
    aperture_rotation_deg
        Rotation of the polygonal aperture, degrees.
    name
        Free-text label used in reports.
    """

    focal_length_mm: float
    f_number: float
    min_focus_distance_m: float = 0.1
    transmission: float = 0.9
    aperture_blades: int | None = None
    aperture_rotation_deg: float = 0.0
    name: str = "lens"

    def __post_init__(self) -> None:
        check_positive("focal_length_mm", self.focal_length_mm)
        n = check_positive("f_number", self.f_number)
        if n < 0.5:
            raise InvalidParameterError(
                f"f_number {n} is below 0.5, the physical limit of a lens in air; "
                "use f_number >= 0.5"
            )
        mfd = check_positive("min_focus_distance_m", self.min_focus_distance_m)
        if mfd * 1000.0 <= self.focal_length_mm:
            raise InvalidParameterError(
                f"min_focus_distance_m {mfd} m is not beyond the focal length "
                f"{self.focal_length_mm} mm; no real image forms there: use a larger distance"
            )
        t = check_positive("transmission", self.transmission)
        if t > 1.0:
            raise InvalidParameterError(f"transmission must be in (0, 1], got {t}")
        if self.aperture_blades is not None and int(self.aperture_blades) < 3:
            raise InvalidParameterError(
                f"aperture_blades must be >= 3 (or None for a circle), got {self.aperture_blades}"
            )

    @property
    def aperture_diameter_mm(self) -> float:
        """Entrance-pupil diameter A = f / N, millimetres."""
        return self.focal_length_mm / self.f_number
