"""Autofocus in a closed loop: observations, policies, backends (simulator, replay), run metrics.

Modules: :mod:`~focuslab.af.types` (the interface), :mod:`~focuslab.af.registry` (policies by
name), :mod:`~focuslab.af.backends` (:class:`SimulatorBackend`, :class:`ReplayBackend`),
:mod:`~focuslab.af.loop` (:func:`run_af`), :mod:`~focuslab.af.run_metrics`,
:mod:`~focuslab.af.regions` (AF region selection), :mod:`~focuslab.af.policies` (the built-in
policies). Nothing heavy is imported here: import the module you need (docs/af.md).
"""
