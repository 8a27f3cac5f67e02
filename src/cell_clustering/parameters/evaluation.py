"""``evaluation``: representations compared, clustering heads, the reported
clustering, composition and figures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from cell_clustering.parameters.base import Params

Representation = Literal["latents", "morphology", "pixels_pca"]
Head = Literal["kmeans", "gmm", "umap_kmeans", "umap_gmm"]


class ReportParams(Params):
    """The clustering behind the composition table, the figures and the report."""

    representation: Representation = "latents"
    head: Head = "gmm"
    k: int = Field(5, ge=2)


class MorphologyParams(Params):
    """The morphology baseline: standardised over all cells, or against the control."""

    normalise: Literal["all", "control"] = "all"


class PixelsParams(Params):
    n_components: int = Field(10, ge=2)


class GmmParams(Params):
    """The Gaussian mixture of the ``gmm`` head (on the standardised representation)."""

    # Added to every component's covariance (features standardised to variance 1): a
    # floor on how thin a component may become (see evaluation.clustering.gaussian_mixture).
    reg_covar: float = Field(0.1, gt=0)
    n_init: PositiveInt = 30  # starts; the best likelihood is kept
    # The mixture is fitted on the principal components holding this share of the
    # variance (the thin directions dropped; see evaluation.clustering.principal_components);
    # None: every dimension (a share of 1 is refused by scikit-learn's PCA, so < 1 here).
    variance_share: float | None = Field(0.95, gt=0, lt=1)


class UmapParams(Params):
    """UMAP before the ``umap_*`` heads (N2D: min_dist 0 packs the clusters)."""

    n_components: int = Field(8, ge=2)
    n_neighbors: int = Field(30, ge=2)
    min_dist: float = Field(0.0, ge=0, le=1)
    candidates: int = Field(10, ge=1)  # UMAP fits per clustering seed; the medoid partition is kept


class MapParams(Params):
    """The 2-D map of the report."""

    n_neighbors: int = Field(15, ge=2)
    min_dist: float = Field(0.1, ge=0, le=1)


class FieldStatisticsParams(Params):
    """Composition statistics with fields as the unit (``evaluation.field_statistics``)."""

    n_permutations: PositiveInt = 9999
    n_bootstrap: PositiveInt = 2000
    confidence: float = Field(0.95, gt=0, lt=1)
    seed: NonNegativeInt = 0


class EvaluationParams(Params):
    """The ``evaluation`` block (``conf/base/parameters_evaluation.yml``)."""

    representations: list[Representation] = Field(default_factory=lambda: ["latents", "morphology", "pixels_pca"], min_length=1)
    heads: list[Head] = Field(default_factory=lambda: ["kmeans", "gmm", "umap_gmm"], min_length=1)
    n_clusters: list[int] = Field(default_factory=lambda: [4, 5, 7], min_length=1)
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    n_init: PositiveInt = 10
    n_threads: PositiveInt = 2
    report: ReportParams = ReportParams()
    label_column: str | None = "condition"
    control_condition: str = "control"
    morphology: MorphologyParams = MorphologyParams()
    pixels: PixelsParams = PixelsParams()
    gmm: GmmParams = GmmParams()
    umap: UmapParams = UmapParams()
    map: MapParams = MapParams()
    field_statistics: FieldStatisticsParams = FieldStatisticsParams()
    samples_per_cluster: PositiveInt = 7
    latent_dims_to_plot: list[NonNegativeInt] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])

    @model_validator(mode="after")
    def _reported_clustering_is_computed(self) -> EvaluationParams:
        if any(k < 2 for k in self.n_clusters):
            raise ValueError(f"n_clusters must all be at least 2, got {self.n_clusters}")
        if self.report.k not in self.n_clusters:
            raise ValueError(f"report.k ({self.report.k}) must be one of n_clusters {self.n_clusters}")
        if self.report.head not in self.heads or self.report.representation not in self.representations:
            raise ValueError(
                f"report.representation ({self.report.representation}) and report.head ({self.report.head}) "
                f"must be among representations {self.representations} and heads {self.heads}"
            )
        return self
