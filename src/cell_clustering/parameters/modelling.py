"""``modelling``: which shape model, its architecture and how it is trained."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from cell_clustering.parameters.base import Params

ModelType = Literal["vae", "cvae", "refined_vae", "contrastive"]
VAE_FAMILY = ("vae", "cvae", "refined_vae")


class ModelParams(Params):
    """Shared by every model type: the size of the representation."""

    latent_dim: PositiveInt = 16


class VAEParams(Params):
    """Only for the VAE family (``vae``, ``cvae``, ``refined_vae``)."""

    feature_dim: PositiveInt = 256
    beta: float = Field(1.0, ge=0)
    reconstruction: Literal["bce", "mse"] = "bce"


class RefinedVAEParams(Params):
    """Only for ``model_type: refined_vae``: Z' = f(Z) ⊕ g(E), dim g(E) = latent_dim / alpha."""

    alpha: int = Field(8, ge=2)
    embedding: Literal["input", "condition"] = "input"


class ContrastiveParams(Params):
    """Only for ``model_type: contrastive`` (SimCLR): encoder width, projection and loss
    temperature (what two views may differ by is ``modelling.invariances``)."""

    width: PositiveInt = 16
    projection_dim: PositiveInt = 64
    temperature: float = Field(0.1, gt=0, le=1)


class InvarianceParams(Params):
    """What may change in an image without changing what it shows: the views a
    self-supervised model (``contrastive``) learns to map together. Declared per
    dataset: cells on grooves are the same cell mirrored about or across the grooves
    (``flips: both``), garments mirrored left-right (``left_right``), digits not at all
    (``none``: a mirrored 7 is no 7)."""

    flips: Literal["both", "left_right", "up_down", "none"] = "both"
    rotation_deg: float = Field(15.0, ge=0, le=45)
    shift: float = Field(0.08, ge=0, le=0.5)
    scale: float = Field(0.4, ge=0, lt=1)
    intensity: float = Field(0.0, ge=0, lt=1)   # ± brightness gain
    blur_sigma: float = Field(0.0, ge=0, le=5)  # pixels
    noise: float = Field(0.0, ge=0, le=0.5)     # sd on the [0, 1] range


class AugmentParams(Params):
    """Data augmentation for the VAE family, in the groove frame (flips about and
    across the grooves, small rotations, shifts and scale changes)."""

    flips: bool = False
    rotation_deg: float = Field(0.0, ge=0, le=45)
    shift: float = Field(0.0, ge=0, le=0.5)
    scale: float = Field(0.0, ge=0, lt=1)


class TrainingParams(Params):
    """How a model is trained; every random step draws from ``seed``. The budget is
    ``epochs`` passes over the data and at least ``min_updates`` optimizer steps (a
    few hundred cells make only a few steps per epoch): whichever is longer."""

    epochs: PositiveInt = 20
    min_updates: NonNegativeInt = 0
    batch_size: int = Field(64, ge=2)
    learning_rate: PositiveFloat = 1e-3
    weight_decay: float = Field(1e-4, ge=0)
    validation_fraction: float = Field(0.1, ge=0, lt=1)
    seed: NonNegativeInt = 0
    beta_warmup_epochs: NonNegativeInt = 0
    early_stopping_patience: PositiveInt | None = None
    kl_threshold: PositiveFloat | None = None
    kl_patience: PositiveInt = 3
    augment: AugmentParams = AugmentParams()
    progress_bar: bool = True


class ModellingParams(Params):
    """The ``modelling`` block (``conf/base/parameters_modelling.yml``). Options of a
    model type live in the block of its name, so none is silently ignored."""

    model_type: ModelType = "refined_vae"
    model: ModelParams = ModelParams()
    vae: VAEParams = VAEParams()
    refined_vae: RefinedVAEParams = RefinedVAEParams()
    contrastive: ContrastiveParams = ContrastiveParams()
    invariances: InvarianceParams = InvarianceParams()
    training: TrainingParams = TrainingParams()
    on_divergence: Literal["stop", "raise"] = "stop"

    @model_validator(mode="after")
    def _consistent(self) -> ModellingParams:
        if self.model_type == "contrastive" and self.training.augment != AugmentParams():
            raise ValueError(
                "training.augment is for the VAE family; the contrastive model draws its own views "
                "(declare modelling.invariances instead)"
            )
        if self.model_type == "refined_vae" and self.model.latent_dim % self.refined_vae.alpha:
            raise ValueError(
                f"model.latent_dim ({self.model.latent_dim}) must be divisible by refined_vae.alpha "
                f"({self.refined_vae.alpha}): dim g(E) = latent_dim / alpha"
            )
        return self
