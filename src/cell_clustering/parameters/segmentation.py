"""``segmentation``: Cellpose training and inference, post-filters, the baseline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from cell_clustering.parameters.base import Params

# Cellpose scales each field so that these percentiles become 0 and 1, in training and
# at inference alike. Its default upper percentile, 99, falls in the background of a
# field with one or two cells: the cell is then scaled to ~5, outside anything the
# network saw, and a trained model found none. At 99.9 the brightest cell sets the
# scale down to ~0.1 % of the field's area.
NORMALIZE_PERCENTILES = (1.0, 99.9)

class CellposeTrainingParams(Params):
    """Cellpose training, counted in optimizer updates (see
    :mod:`cell_clustering.segmentation.cellpose_training`).

    ``updates`` of ``batch_size`` crops of ``bsize`` pixels, whatever the number of
    annotated images; the validation loss is checked ``n_checks`` times and the best
    weights kept. After training the model segments up to ``collapse_check_fields``
    of its own training fields: finding fewer than ``collapse_ratio`` × the annotated
    cells stops the run.
    """

    updates: PositiveInt = 128
    learning_rate: PositiveFloat = 0.005
    weight_decay: float = Field(1e-5, ge=0)
    batch_size: PositiveInt = 4
    min_train_masks: NonNegativeInt = 5
    bsize: int = Field(112, ge=32, multiple_of=16)
    n_checks: PositiveInt = 10
    collapse_ratio: float = Field(0.5, ge=0, le=1)
    collapse_check_fields: PositiveInt = 4
    seed: NonNegativeInt = 0


class InferenceParams(Params):
    """Arguments of ``CellposeModel.eval``; a null diameter uses the training masks'."""

    diameter: PositiveFloat | None = None
    flow_threshold: float = Field(0.4, ge=0)
    cellprob_threshold: float = Field(0.0, ge=-6, le=6)
    # Cellpose's tile size. Its default, 224, cuts a 512-px field into 9 overlapping
    # tiles (2.6x its area); one tile of 512 covers a rescaled demo field: the same
    # masks in 2.4x less time on a CPU. Larger fields are still tiled.
    bsize: int = Field(512, ge=64, multiple_of=16)


class LabelFilterParams(Params):
    """Labels kept: not touching the border (optional) and within an area range (px)."""

    drop_border: bool = False
    min_area: NonNegativeInt = 80
    max_area: PositiveInt | None = None


class ClassicalParams(Params):
    """Otsu + watershed, the baseline reported beside Cellpose."""

    smoothing_sigma: float = Field(2.0, ge=0)
    min_object_area: PositiveInt = 80
    h_maxima: PositiveFloat = 3.0


class SegmentationParams(Params):
    """The ``segmentation`` block (``conf/base/parameters_segmentation.yml``).

    ``method``: ``auto`` uses Cellpose where it has something to learn from or start
    with (annotated fields, or a ``model_source``), else the classical segmentation;
    ``cellpose`` and ``classical`` force one. ``cell_diameter_um`` gives Cellpose the
    cell size when no diameter was learnt from annotations, converted to pixels with
    each field's own pixel size.
    """

    method: Literal["auto", "cellpose", "classical"] = "auto"
    cell_diameter_um: PositiveFloat | None = None
    model_source: str = "none"
    train: bool = True
    validation_fraction: float = Field(0.2, ge=0, lt=1)
    split_seed: NonNegativeInt = 0
    training: CellposeTrainingParams = CellposeTrainingParams()
    inference: InferenceParams = InferenceParams()
    post_filters: LabelFilterParams = LabelFilterParams()
    classical: ClassicalParams = ClassicalParams()
    normalize_percentiles: tuple[float, float] = NORMALIZE_PERCENTILES
    quality_thresholds: list[float] = Field(default_factory=lambda: [0.5, 0.75, 0.9], min_length=1)
    n_figure_fields: PositiveInt = 3

    @field_validator("normalize_percentiles")
    @classmethod
    def _low_below_high(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 <= low < high <= 100:
            raise ValueError(f"needs 0 <= low < high <= 100 (got {list(value)}); e.g. [1.0, 99.9]")
        return value
