"""Evaluation of a cell representation: clustering heads, metrics, composition.

Submodules load on first use (``lazy_loader.attach``): scikit-learn and umap
(seconds) are imported when a node first clusters.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "clustering": [
            "candidate_seeds", "cluster", "consensus_choice", "external_scores", "gaussian_mixture", "hungarian_accuracy",
            "internal_scores", "kmeans", "pairwise_agreement", "principal_components", "umap_embedding",
        ],
        "comparison": [
            "METRICS", "HeadResult", "as_mlflow_metrics", "compare", "condition_ceiling", "head_labels", "linear_probe", "probes",
            "report_assignments", "seeded_clusterings",
        ],
        "composition": ["composition"],
        "field_statistics": ["field_level_test", "field_proportions"],
        "representations": ["MORPHOLOGY_FEATURES", "morphology", "pixels_pca", "standardise"],
        "scoring": [
            "ID_COLUMNS", "UNMATCHED", "check_against_data", "check_aligned", "labels_of", "score", "shape_classes_of",
        ],
    },
)
