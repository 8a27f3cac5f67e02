"""``modelling``: which shape model, its architecture and how it is trained."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from cell_clustering.parameters.base import Params

ModelType = Literal["vae", "cvae", "refined_vae"]


class ArchitectureParams(Params):
    """Shared by every model type."""

    latent_dim: PositiveInt = 16
    feature_dim: PositiveInt = 256
    beta: float = Field(1.0, ge=0)
    reconstruction: Literal["bce", "mse"] = "bce"


class RefinedVAEParams(Params):
    """Only for ``model_type: refined_vae``: Z' = f(Z) ⊕ g(E), dim g(E) = latent_dim / alpha."""

    alpha: int = Field(8, ge=2)
    embedding: Literal["input", "condition"] = "input"


class TrainingParams(Params):
    """How a model is trained; every random step draws from ``seed``."""

    epochs: PositiveInt = 20
    batch_size: int = Field(64, ge=2)
    learning_rate: PositiveFloat = 1e-3
    weight_decay: float = Field(1e-4, ge=0)
    validation_fraction: float = Field(0.1, ge=0, lt=1)
    seed: NonNegativeInt = 0
    beta_warmup_epochs: NonNegativeInt = 0
    early_stopping_patience: PositiveInt | None = None
    kl_threshold: PositiveFloat | None = None
    kl_patience: PositiveInt = 3
    progress_bar: bool = True


class ModellingParams(Params):
    """The ``modelling`` block (``conf/base/parameters_modelling.yml``)."""

    model_type: ModelType = "refined_vae"
    model: ArchitectureParams = ArchitectureParams()
    refined_vae: RefinedVAEParams = RefinedVAEParams()
    training: TrainingParams = TrainingParams()
    on_divergence: Literal["stop", "raise"] = "stop"

    @model_validator(mode="after")
    def _alpha_divides_latent_dim(self) -> ModellingParams:
        if self.model_type == "refined_vae" and self.model.latent_dim % self.refined_vae.alpha:
            raise ValueError(
                f"model.latent_dim ({self.model.latent_dim}) must be divisible by refined_vae.alpha "
                f"({self.refined_vae.alpha}): dim g(E) = latent_dim / alpha"
            )
        return self
