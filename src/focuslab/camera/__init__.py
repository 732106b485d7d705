"""focuslab.camera: lens + sensor + VCM actuator + depth sensor, presets and stateful capture.

``ActuatorSpec`` / ``VcmActuator``: the voice-coil lens actuator (calibrated code map,
second-order settling, play hysteresis, jitter). ``DepthSensorSpec``: a multizone ToF
sensor. ``Camera``: the frozen module description; ``get_camera(name)`` for presets;
``Camera.session(seed=...)`` -> :class:`CaptureSession` whose ``capture(scene, t_s, ...)``
renders each :class:`Frame` at the lens position actually reached.
"""

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.camera import Camera
from focuslab.camera.depth_sensor import DepthReading, DepthSensorSpec
from focuslab.camera.frame import Frame
from focuslab.camera.presets import camera_names, get_camera, register_camera
from focuslab.camera.session import CaptureSession
from focuslab.camera.vcm import LensCommand, VcmActuator

__all__ = [
    "ActuatorSpec",
    "Camera",
    "CaptureSession",
    "DepthReading",
    "DepthSensorSpec",
    "Frame",
    "LensCommand",
    "VcmActuator",
    "camera_names",
    "get_camera",
    "register_camera",
]
