"""``benchmark``: the seed's MNIST / FashionMNIST clustering tables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from cell_clustering.parameters.base import Params
from cell_clustering.parameters.evaluation import GmmParams
from cell_clustering.parameters.modelling import (
    ContrastiveParams,
    InvarianceParams,
    ModelType,
    TrainingParams,
    VAEParams,
)

Head = Literal["kmeans", "gmm", "umap_kmeans", "umap_gmm"]


class BenchmarkUmapParams(Params):
    n_components: int = Field(10, ge=2)
    n_neighbors: int = Field(20, ge=2)


class BenchmarkEvaluationParams(Params):
    """How test latents are clustered (k = the number of classes)."""

    seed: NonNegativeInt = 0
    n_init: PositiveInt = 10
    gmm: GmmParams = GmmParams()
    umap: BenchmarkUmapParams = BenchmarkUmapParams()


class BenchmarkInvariances(Params):
    """What each benchmark dataset allows two views to differ by (the contrastive model):
    a mirrored digit is another symbol; a garment mirrored left-right is the same garment."""

    mnist: InvarianceParams = InvarianceParams(flips="none", rotation_deg=10.0, shift=0.1, scale=0.1)
    fashion_mnist: InvarianceParams = InvarianceParams(flips="left_right", rotation_deg=5.0, shift=0.1, scale=0.1)


class BetaSweepParams(Params):
    model: ModelType = "vae"
    latent_dim: PositiveInt = 16
    betas: list[float] = Field(default_factory=lambda: [0.5, 1.0, 2.0, 4.0], min_length=1)


class BenchmarkParams(Params):
    """The ``benchmark`` block (``conf/base/parameters_benchmark.yml``)."""

    max_train_samples: PositiveInt | None = None
    max_test_samples: PositiveInt | None = None
    models: list[Literal["vae", "cvae", "contrastive"]] = Field(default_factory=lambda: ["vae", "cvae"], min_length=1)
    latent_dims: list[PositiveInt] = Field(default_factory=lambda: [16, 32], min_length=1)
    heads: list[Head] = Field(default_factory=lambda: ["kmeans", "umap_kmeans", "umap_gmm"], min_length=1)
    vae: VAEParams = VAEParams()
    contrastive: ContrastiveParams = ContrastiveParams()
    invariances: BenchmarkInvariances = BenchmarkInvariances()
    training: TrainingParams = TrainingParams()
    evaluation: BenchmarkEvaluationParams = BenchmarkEvaluationParams()
    beta_sweep: BetaSweepParams = BetaSweepParams()
