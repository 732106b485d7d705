"""Depth-aware defocus rendering in torch: scene -> :class:`OpticalImage` (DESIGN.md "Physics")."""

from focuslab.render.compositing import FieldKernels, blur, blur_premultiplied, composite_layers, over
from focuslab.render.convolution import DIRECT_MAX_TAPS, Convolve2d, convolve2d
from focuslab.render.depth_slicing import depth_bins, fill_behind
from focuslab.render.focal_stack import render_focal_stack
from focuslab.render.optical_image import OpticalImage
from focuslab.render.renderer import render_optical_image, resolve_device

__all__ = [
    "DIRECT_MAX_TAPS",
    "Convolve2d",
    "FieldKernels",
    "OpticalImage",
    "blur",
    "blur_premultiplied",
    "composite_layers",
    "convolve2d",
    "depth_bins",
    "fill_behind",
    "over",
    "render_focal_stack",
    "render_optical_image",
    "resolve_device",
]
