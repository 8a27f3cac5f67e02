"""Segmentation of fields into cell instances: Cellpose (CPnet) and a classical baseline.

Submodules load on first use (``lazy_loader.attach``, as scikit-image does): importing
this package is free, and cellpose/torch (seconds) load when a node first segments.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "classical": ["filter_labels", "label_dtype", "segment_classical"],
        "quality": ["n_objects", "quality_rows"],
        "cellpose": [
            "ModelSource",
            "aggregated_jaccard",
            "average_precision",
            "build_model",
            "builtin_file_name",
            "cached_model",
            "count_trainable",
            "model_from_state_dict",
            "read_state_dict",
            "recall",
            "resolve_model_source",
            "segment",
            "train",
            "with_nuclei",
        ],
    },
)
