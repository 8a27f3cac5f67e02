"""``tuning``: hyperparameter search with Optuna over the modelling parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from cell_clustering.parameters.base import Params


class _Range(Params):
    """``low`` ≤ ``high``; the bounds' types are set by each subclass."""

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class IntRange(_Range):
    low: PositiveInt
    high: PositiveInt
    log: bool = False


class FloatRange(_Range):
    low: float = Field(gt=0)
    high: float = Field(gt=0)
    log: bool = True


class SearchSpace(Params):
    """What a trial may change; a parameter left out keeps its ``modelling`` value."""

    latent_dim: list[PositiveInt] = Field(default_factory=lambda: [8, 16, 32], min_length=1)
    temperature: FloatRange | None = FloatRange(low=0.1, high=0.5)
    min_updates: IntRange | None = IntRange(low=500, high=3000, log=True)
    beta: FloatRange | None = None
    learning_rate: FloatRange | None = None


class TuningParams(Params):
    """The ``tuning`` block (``conf/base/parameters_tuning.yml``).

    ``objective`` is unsupervised by default: ``stability`` (mean adjusted Rand index
    between the reported clusterings of ``evaluation.seeds``, maximised) or
    ``validation_loss`` (minimised; comparable within one model type).
    ``shape_accuracy`` optimises on the planted labels: only for a labelled benchmark,
    and ``allow_label_objective`` must say so; the run is then tagged as such.
    """

    n_trials: PositiveInt = 8
    seed: NonNegativeInt = 0
    objective: Literal["stability", "validation_loss", "shape_accuracy"] = "stability"
    allow_label_objective: bool = False
    search: SearchSpace = SearchSpace()

    @model_validator(mode="after")
    def _labels_only_when_asked(self) -> TuningParams:
        if self.objective == "shape_accuracy" and not self.allow_label_objective:
            raise ValueError(
                "objective shape_accuracy optimises on the labels the run reports; set "
                "allow_label_objective: true only on a labelled benchmark, never to report results"
            )
        return self
