"""``patching``: one patch per cell, the filters, the size study and the sample grid."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from cell_clustering.parameters.base import Params


class PatchFilterParams(Params):
    """Cells kept for patches: not cut by the field border, area within range (µm²,
    compared with each cell's area at its field's own pixel size)."""

    drop_border: bool = True
    min_area_um2: NonNegativeFloat = 63.375
    max_area_um2: PositiveFloat | None = 2535.0


class SizeStudyParams(Params):
    percentile: float = Field(95.0, gt=0, le=100)
    size_multiple: PositiveInt = 8


class GridParams(Params):
    samples_per_condition: PositiveInt = 8
    seed: NonNegativeInt = 0


class PatchingParams(Params):
    """The ``patching`` block (``conf/base/parameters_patching.yml``).

    ``crop_pad`` cuts a window of ``window_um`` around each cell and scales it to
    ``patch_size`` (one physical scale: size is kept); ``crop_resize`` scales each
    cell's box so its longest side fills the patch (aspect kept, size lost).
    ``channels``: the cell's silhouette (``mask``) and/or its pixels (``intensity``).
    """

    method: Literal["crop_resize", "crop_pad"] = "crop_pad"
    window_um: float = Field(83.2, gt=0)
    channels: list[Literal["mask", "intensity"]] = Field(default_factory=lambda: ["mask"], min_length=1)
    patch_size: int = Field(40, ge=8, le=1024)
    margin: NonNegativeInt = 2
    mask_dilation: NonNegativeInt = 0
    filters: PatchFilterParams = PatchFilterParams()
    size_study: SizeStudyParams = SizeStudyParams()
    grid: GridParams = GridParams()

    @field_validator("patch_size")
    @classmethod
    def _even(cls, value: int) -> int:
        # The encoder halves the patch until it is odd or ≤ 7: an odd size cannot be halved.
        if value % 2:
            raise ValueError(f"must be even (the encoder halves it), e.g. {value + 1}")
        return value

    @model_validator(mode="after")
    def _distinct_channels(self) -> PatchingParams:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError(f"channels are listed twice: {self.channels}")
        return self
