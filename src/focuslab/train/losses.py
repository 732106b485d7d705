"""Losses of the learned-AF networks and the held-out metrics reported beside the
"predict zero defocus" baseline.

All networks are trained with the heteroscedastic Gaussian negative log-likelihood of the
signed defocus (:func:`focuslab.models.dp_defocus.gaussian_nll`; Kendall & Gal, NeurIPS
2017, eq. 8), weighted per sample by its predicted variance to the power ``beta`` (beta-NLL,
Seitzer et al., ICLR 2022; ``beta = 0.5`` by default, 0 gives the plain NLL).
The ``temporal`` network is unrolled over the video's ``T`` frames and adds
``smooth_weight`` times the mean squared second difference (over time) of its implied lens
target ``lens_code / codes_per_dof + defocus`` (DoF units): the true target of a static or
smoothly moving subject has a near-zero second difference, a jittery estimate makes the lens
hunt and jerk.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from focuslab.models.dp_defocus import gaussian_nll


def forward_batch(model: nn.Module, kind: str, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Predictions ``B x 2`` (``B x T x 2`` for video, unrolled from the zero state)."""
    if kind != "video":
        return model(*inputs)
    x, moves = inputs
    net = model.module if hasattr(model, "module") else model
    h = torch.zeros(x.shape[0], net.hidden, device=x.device, dtype=x.dtype)
    outs = []
    for t in range(x.shape[1]):
        out, h = model(x[:, t], moves[:, t], h)
        outs.append(out)
    return torch.stack(outs, dim=1)


def batch_loss(
    pred: torch.Tensor, extra: dict, kind: str, *, smooth_weight: float = 0.0, beta: float = 0.5
) -> torch.Tensor:
    """Training loss of a batch (module docstring)."""
    target = extra["target"]
    loss = gaussian_nll(pred.float(), target, beta=beta)
    if kind == "video" and smooth_weight > 0 and pred.shape[1] >= 3:
        aim = extra["code_dof"] + pred[..., 0].float()
        loss = loss + smooth_weight * ((aim[:, 2:] - 2 * aim[:, 1:-1] + aim[:, :-2]) ** 2).mean()
    return loss


#: |true defocus| (DoF) of the "near focus" samples of :func:`regression_metrics`.
NEAR_DOF = 3.0


def regression_metrics(mu: np.ndarray, logvar: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Held-out metrics (DoF units): Gaussian NLL, MAE, RMSE, fraction within 1 DoF (the
    in-focus criterion), the MAE of the samples within :data:`NEAR_DOF` of focus (where a closed
    loop must land inside 1 DoF; NaN without any), the median predicted sigma, and the baselines of predicting zero
    defocus: its MAE, RMSE, within-1-DoF fraction and the NLL of zero with the best constant
    variance ``0.5 * (1 + ln mean(y^2))``."""
    mu = np.asarray(mu, float).ravel()
    s = np.clip(np.asarray(logvar, float).ravel(), -6.0, 10.0)
    y = np.asarray(target, float).ravel()
    err = mu - y
    ms0 = float(np.mean(y**2))
    near = np.abs(y) <= NEAR_DOF
    return {
        "nll": float(np.mean(0.5 * (np.exp(-s) * err**2 + s))),
        "mae_dof": float(np.mean(np.abs(err))),
        "rmse_dof": float(np.sqrt(np.mean(err**2))),
        "within_1dof": float(np.mean(np.abs(err) <= 1.0)),
        "near_mae_dof": float(np.mean(np.abs(err[near]))) if near.any() else math.nan,
        "near_n": int(near.sum()),
        "median_sigma_dof": float(np.median(np.exp(0.5 * s))),
        "zero_nll": 0.5 * (1.0 + math.log(max(ms0, 1e-12))),
        "zero_mae_dof": float(np.mean(np.abs(y))),
        "zero_rmse_dof": float(math.sqrt(ms0)),
        "zero_within_1dof": float(np.mean(np.abs(y) <= 1.0)),
        "n": int(y.size),
    }
