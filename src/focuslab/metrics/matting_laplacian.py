"""The matting Laplacian of Levin, Lischinski & Weiss (2008), as a scipy sparse matrix.

Used to propagate sparse measurements (edge blur, alpha) to every pixel along the image's
colour structure: a map that is locally an affine function of the colours has zero cost
d^T L d.

References
----------
.. [1] A. Levin, D. Lischinski, Y. Weiss, "A closed-form solution to natural image matting",
       IEEE PAMI 30(2):228-242, 2008, eq. 12.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from focuslab.errors import InvalidParameterError, check_positive


def matting_laplacian(image, *, eps: float = 1e-5, radius: int = 1) -> sparse.csr_matrix:
    """Matting Laplacian L (N x N, N = H W, row-major pixel order) of an image [1].

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` float image, intensities in about [0, 1].
    eps
        Regulariser epsilon of [1] (> 0): larger means smoother propagation across weak
        colour changes.
    radius
        Window half-size r: windows are (2 r + 1)^2 pixels, all fully inside the image.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric positive semi-definite, rows sum to 0.

    Notes
    -----
    L_ij = sum_{k | (i, j) in w_k} ( delta_ij - (1 / |w_k|) (1 + (I_i - mu_k)^T
    (Sigma_k + eps / |w_k| U)^-1 (I_j - mu_k)) )  ([1], eq. 12), with mu_k, Sigma_k the mean
    and (biased) covariance of the colours in window w_k and U the C x C identity.
    """
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3:
        raise InvalidParameterError(f"image must be H x W or H x W x C, got shape {np.asarray(image).shape}")
    e = check_positive("eps", eps)
    r = int(radius)
    h, w, c = a.shape
    if r < 1 or h < 2 * r + 1 or w < 2 * r + 1:
        raise InvalidParameterError(f"need radius >= 1 and an image of at least {2 * r + 1} px per side")
    size = (2 * r + 1) ** 2
    idx = np.arange(h * w).reshape(h, w)
    offs = [(dy, dx) for dy in range(2 * r + 1) for dx in range(2 * r + 1)]
    hh, ww = h - 2 * r, w - 2 * r
    win_idx = np.stack([idx[dy : dy + hh, dx : dx + ww].ravel() for dy, dx in offs], axis=1)  # (K, size)
    win = np.stack([a[dy : dy + hh, dx : dx + ww].reshape(-1, c) for dy, dx in offs], axis=1)  # (K, size, C)
    mu = win.mean(axis=1, keepdims=True)
    x = win - mu
    cov = np.einsum("ksc,ksd->kcd", x, x) / size + (e / size) * np.eye(c)
    inv = np.linalg.inv(cov)
    g = (1.0 + np.einsum("ksc,kcd,ktd->kst", x, inv, x)) / size
    vals = np.eye(size)[None] - g
    rows = np.broadcast_to(win_idx[:, :, None], vals.shape).ravel()
    cols = np.broadcast_to(win_idx[:, None, :], vals.shape).ravel()
    n = h * w
    return sparse.csr_matrix((vals.ravel(), (rows.astype(np.int32), cols.astype(np.int32))), shape=(n, n))
