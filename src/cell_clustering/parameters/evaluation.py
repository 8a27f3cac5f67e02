"""``evaluation``: clustering heads, metrics, composition and figures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from cell_clustering.parameters.base import Params


class ReduceParams(Params):
    """Reduce the representation before clustering: none, or UMAP (the N2D recipe)."""

    method: Literal["none", "umap"] = "none"
    n_components: int = Field(8, ge=2)


class UmapParams(Params):
    n_neighbors: int = Field(15, ge=2)
    min_dist: float = Field(0.1, ge=0, le=1)


class EvaluationParams(Params):
    """The ``evaluation`` block (``conf/base/parameters_evaluation.yml``)."""

    method: Literal["kmeans", "gmm"] = "kmeans"
    n_clusters: list[int] = Field(default_factory=lambda: [4, 5, 7], min_length=1)
    report_k: int = 5
    seed: NonNegativeInt = 0
    n_init: PositiveInt = 10
    label_column: str | None = "condition"
    control_condition: str = "control"
    reduce: ReduceParams = ReduceParams()
    umap: UmapParams = UmapParams()
    samples_per_cluster: PositiveInt = 7
    latent_dims_to_plot: list[NonNegativeInt] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])

    @model_validator(mode="after")
    def _report_k_is_clustered(self) -> EvaluationParams:
        if any(k < 2 for k in self.n_clusters):
            raise ValueError(f"n_clusters must all be at least 2, got {self.n_clusters}")
        if self.report_k not in self.n_clusters:
            raise ValueError(f"report_k ({self.report_k}) must be one of n_clusters {self.n_clusters}")
        return self
