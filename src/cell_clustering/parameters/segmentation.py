"""``segmentation``: Cellpose training and inference, post-filters, the baseline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from cell_clustering.parameters.base import Params


class CellposeTrainingParams(Params):
    """Cellpose training, counted in optimizer updates (see
    :mod:`cell_clustering.segmentation.cellpose_training`).

    ``updates`` of ``batch_size`` crops of ``bsize`` pixels, whatever the number of
    annotated images; the validation loss is checked ``n_checks`` times and the best
    weights kept. After training the model segments up to ``collapse_check_fields``
    of its own training fields: finding fewer than ``collapse_ratio`` × the annotated
    cells stops the run.
    """

    updates: PositiveInt = 160
    learning_rate: PositiveFloat = 0.005
    weight_decay: float = Field(1e-5, ge=0)
    batch_size: PositiveInt = 4
    min_train_masks: NonNegativeInt = 5
    bsize: int = Field(128, ge=32)
    n_checks: PositiveInt = 10
    collapse_ratio: float = Field(0.5, ge=0, le=1)
    collapse_check_fields: PositiveInt = 4
    seed: NonNegativeInt = 0


class InferenceParams(Params):
    """Arguments of ``CellposeModel.eval``; a null diameter uses the training masks'."""

    diameter: PositiveFloat | None = None
    flow_threshold: float = Field(0.4, ge=0)
    cellprob_threshold: float = Field(0.0, ge=-6, le=6)


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
    quality_thresholds: list[float] = Field(default_factory=lambda: [0.5, 0.75, 0.9], min_length=1)
    n_figure_fields: PositiveInt = 3
