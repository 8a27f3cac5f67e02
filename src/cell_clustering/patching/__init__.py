"""One patch per cell: morphology, filters, crop + resize or crop + pad, background
removed. Images are indexed ``[row, col]``; grooves are horizontal after
preprocessing.

Submodules load on first use (``lazy_loader.attach``): scipy and scikit-image are
imported when a node first cuts patches, not when pipelines are registered.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "morphology": ["KEPT", "cut_by_edge", "filter_reason", "morphology_table", "with_physical_units"],
        "patches": ["crop_pad", "crop_resize", "patch_field", "scaled_window"],
        "truth": ["filtered_truth", "match_to_truth", "truth_counts"],
    },
)
