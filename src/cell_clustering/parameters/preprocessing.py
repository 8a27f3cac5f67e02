"""``preprocessing``: groove angle, rotation, CLAHE, normalise, clip, TV denoise."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

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


class LayoutParams(Params):
    """How the files' planes become a field: which axes, channels and z-plane.

    ``axes`` null reads every file as it declares itself (tifffile's series axes);
    a string (``YX``, ``CYX``, ``YXC``, ``ZYX``, ``ZCYX``...) is checked against each
    file and names the pages a file does not describe. Channels are indices from 0 or
    names from the file's metadata.
    """

    axes: str | None = None
    cell_channel: NonNegativeInt | str = 0
    nuclear_channel: NonNegativeInt | str | None = None
    z_projection: Literal["max", "mean"] | NonNegativeInt = "max"

    @field_validator("axes")
    @classmethod
    def _known_axes(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if set(value) - set("CZTYX") or len(set(value)) != len(value) or not value.rstrip("C").endswith("YX"):
            raise ValueError(f"{value!r} is not a layout: letters C, Z, T once each, then YX (or YXC), e.g. CYX")
        return value

    @model_validator(mode="after")
    def _distinct_channels(self) -> LayoutParams:
        if self.nuclear_channel is not None and self.nuclear_channel == self.cell_channel:
            raise ValueError(f"nuclear_channel and cell_channel are the same channel ({self.cell_channel!r})")
        return self


class PreprocessingParams(Params):
    """The ``preprocessing`` block (``conf/base/parameters_preprocessing.yml``).

    ``pixel_size_um`` is used for files that declare no pixel size, or for every file
    when ``pixel_size_from`` is ``parameter``.
    """

    layout: LayoutParams = LayoutParams()
    pixel_size_um: PositiveFloat = 0.65
    pixel_size_from: Literal["file", "parameter"] = "file"
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
