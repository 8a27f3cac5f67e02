"""``preprocessing``: groove angle, rotation, CLAHE, normalise, clip, TV denoise."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from cell_clustering.parameters.base import Params


class AngleParams(Params):
    """Groove angle by Canny edges and a Hough transform."""

    canny_sigma: PositiveFloat = 2.0
    background_percentile: float = Field(70.0, ge=0, le=100)
    coarse_step_deg: float = Field(0.5, gt=0, le=10)
    fine_step_deg: float = Field(0.02, gt=0, le=1)
    fallback_angle_deg: float = Field(0.0, ge=-90, le=90)
    min_confidence: float = Field(0.2, ge=0, le=1)


class RotationParams(Params):
    enabled: bool = True
    border_mode: Literal["constant", "edge", "symmetric", "reflect", "wrap"] = "constant"
    crop_to_valid: bool = False


class ClaheParams(Params):
    enabled: bool = True
    saturation_percentile: float = Field(99.99, gt=0, le=100)


class StepToggle(Params):
    enabled: bool = True


class ClipParams(Params):
    enabled: bool = True
    low_percentile: float = Field(1.0, ge=0, le=100)
    high_percentile: float = Field(99.8, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> ClipParams:
        if self.low_percentile >= self.high_percentile:
            raise ValueError(
                f"low_percentile ({self.low_percentile}) must be below high_percentile ({self.high_percentile})"
            )
        return self


class DensityBin(Params):
    """CLAHE and TV choices for fields whose foreground fraction is ≤ ``max_foreground``."""

    name: str
    max_foreground: float = Field(ge=0, le=1)
    clahe_clip_limit: PositiveFloat
    clahe_kernel_size: int = Field(ge=8)
    tv_weight: PositiveFloat


def _default_bins() -> list[DensityBin]:
    return [
        DensityBin(name="sparse", max_foreground=0.07, clahe_clip_limit=0.01, clahe_kernel_size=64, tv_weight=0.06),
        DensityBin(name="crowded", max_foreground=1.0, clahe_clip_limit=0.008, clahe_kernel_size=96, tv_weight=0.04),
    ]


class PreprocessingParams(Params):
    """The ``preprocessing`` block (``conf/base/parameters_preprocessing.yml``)."""

    channel: NonNegativeInt | None = None
    channel_axis: int = -1
    pixel_size_um: PositiveFloat = 0.65
    angle: AngleParams = AngleParams()
    rotation: RotationParams = RotationParams()
    clahe: ClaheParams = ClaheParams()
    normalise: StepToggle = StepToggle()
    clip: ClipParams = ClipParams()
    denoise: StepToggle = StepToggle()
    density_bins: list[DensityBin] = Field(default_factory=_default_bins, min_length=1)
    n_figure_fields: PositiveInt = 5

    @model_validator(mode="after")
    def _bins_cover_every_field(self) -> PreprocessingParams:
        limits = [density_bin.max_foreground for density_bin in self.density_bins]
        if limits != sorted(limits) or limits[-1] != 1.0:
            raise ValueError(
                f"density_bins must have increasing max_foreground ending at 1.0 (got {limits}), "
                "so that every field falls in a bin"
            )
        return self
