"""The embedded demo dataset: synthetic fields with planted shapes and ground truth.

Submodules load on first use (``lazy_loader.attach``): scipy is imported when the
demo data is drawn, not when pipelines are registered.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "cells": ["PlantedCell", "polar_radius", "rasterise_cell"],
        "foreign": ["foreign_field"],
        "field": ["generate_dataset", "generate_field", "groove_pattern", "touching_labels"],
        "nuclei": ["nuclei_crop"],
    },
)
