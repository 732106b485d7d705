"""PSF kernels for one render (or a focal stack), evaluated once and kept on the device."""

from __future__ import annotations

import numpy as np
import torch

from focuslab.errors import InvalidParameterError
from focuslab.optics.psf_model import PsfModel


class KernelCache:
    """PSF kernels as float32 tensors on the device, one evaluation per (coc, field, kind)."""

    def __init__(self, psf: PsfModel, supersample: int, device: torch.device, channels: int) -> None:
        self.psf, self.supersample, self.device, self._cache = psf, supersample, device, {}
        self.channels = channels

    def get(self, coc_px: float, field_xy: tuple[float, float], kind: str) -> torch.Tensor:
        """The ``kind`` ("whole", "left" or "right") kernel for ``coc_px`` at ``field_xy``."""
        key = (round(float(coc_px), 9), field_xy, kind)
        if key not in self._cache:
            if kind == "whole":
                arrays = {"whole": self.psf.kernel(coc_px, field_xy=field_xy, samples_per_px=self.supersample)}
            else:
                left, right = self.psf.kernel_pair(coc_px, field_xy=field_xy, samples_per_px=self.supersample)
                arrays = {"left": left, "right": right}
            for name, arr in arrays.items():
                arr = np.asarray(arr, dtype=np.float64)
                if arr.ndim not in (2, 3) or arr.shape[-1] % 2 == 0 or arr.shape[-2] % 2 == 0:
                    raise InvalidParameterError(
                        f"PSF model {self.psf.name!r} returned a {name} kernel of shape {arr.shape}; "
                        "kernels must be (k, k) or (C, k, k) with k odd"
                    )
                if arr.ndim == 3 and arr.shape[0] not in (1, self.channels):
                    raise InvalidParameterError(
                        f"PSF model {self.psf.name!r} gives {arr.shape[0]}-channel kernels but the scene has "
                        f"{self.channels} channel(s); use a scene with matching channels or an achromatic PSF"
                    )
                if not np.all(np.isfinite(arr)):
                    raise InvalidParameterError(f"PSF model {self.psf.name!r} returned a non-finite kernel")
                t = torch.from_numpy(arr.astype(np.float32)).to(self.device)
                self._cache[(key[0], field_xy, name)] = t
        return self._cache[key]


def _radius(k: torch.Tensor) -> int:
    return int(max(k.shape[-1], k.shape[-2]) // 2)


def kernel_radius(k: torch.Tensor) -> int:
    """Half-size (samples) of a kernel: how far it spreads light."""
    return int(max(k.shape[-1], k.shape[-2]) // 2)
