"""focuslab: learning-based, multi-modal autofocus and camera image-quality engineering.

The physical chain, in the order the data flows (DESIGN.md)::

    Scene -> render (lens PSF, depth-aware defocus) -> OpticalImage
          -> sensor.expose -> RawFrame -> isp -> image
          -> metrics (SFR, focus measures) -> af (closed loop)
"""

__version__ = "0.1.0"
