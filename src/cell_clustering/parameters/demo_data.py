"""``demo_data``: the synthetic fields with planted shapes and ground truth."""

from __future__ import annotations

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from cell_clustering.parameters.base import Params


class ShapeClassParams(Params):
    """The planted distribution of one kind of cell shape, lengths in micrometres.

    ``orientation_sd_deg`` of null means orientation uniform in [0, 180).
    """

    length_um: tuple[PositiveFloat, NonNegativeFloat]  # mean, sd of the major axis
    aspect: tuple[float, NonNegativeFloat]  # mean, sd of major / minor (clipped to >= 1)
    orientation_mean_deg: float = Field(0.0, ge=-90, le=90)  # relative to the grooves
    orientation_sd_deg: NonNegativeFloat | None = 10.0
    lobes: tuple[NonNegativeInt, NonNegativeInt] = (0, 0)  # inclusive range of protrusions
    lobe_amplitude: NonNegativeFloat = 0.0
    ruffle_amplitude: NonNegativeFloat = 0.0


class DensityCounts(Params):
    """A value for sparse fields and one for crowded colonies."""

    sparse: NonNegativeFloat
    crowded: NonNegativeFloat


class DemoDataParams(Params):
    """The ``demo_data`` block (``conf/base/parameters_demo_data.yml``): everything
    that decides the generated files; the same values give the same bytes."""

    seed: NonNegativeInt
    fields_per_condition: PositiveInt
    shape_classes: dict[str, ShapeClassParams] = Field(min_length=1)
    condition_mixtures: dict[str, dict[str, NonNegativeFloat]] = Field(min_length=1)
    scale: PositiveInt = 1
    field_shape: tuple[int, int] = (512, 512)
    pixel_size_um: PositiveFloat = 0.65
    groove_width_um: PositiveFloat = 5.0
    groove_spacing_um: PositiveFloat = 5.0
    max_angle_deg: float = Field(20.0, ge=0, le=90)
    crowded_fraction: float = Field(0.5, ge=0, le=1)
    cells_per_field: DensityCounts = DensityCounts(sparse=10, crowded=26)
    min_gap_um: DensityCounts = DensityCounts(sparse=6.0, crowded=0.0)
    colony_sd_um: PositiveFloat = 45.0
    groove_contrast: NonNegativeFloat = 0.08
    background_level: NonNegativeFloat = 0.10
    illumination_falloff: float = Field(0.35, ge=0, le=1)
    illumination_gradient: float = Field(0.2, ge=0, le=1)
    peak_photons: PositiveFloat = 1200.0
    camera_offset: NonNegativeFloat = 100.0
    read_noise: NonNegativeFloat = 6.0
    hot_pixels: NonNegativeInt = 12
    psf_sigma_px: NonNegativeFloat = 1.0

    @model_validator(mode="after")
    def _mixtures_name_known_classes(self) -> DemoDataParams:
        for condition, mixture in self.condition_mixtures.items():
            unknown = sorted(set(mixture) - set(self.shape_classes))
            if unknown:
                raise ValueError(
                    f"condition_mixtures.{condition} names unknown shape classes {unknown}; "
                    f"known: {sorted(self.shape_classes)}"
                )
            if sum(mixture.values()) <= 0:
                raise ValueError(f"condition_mixtures.{condition} has no positive weight")
        if min(self.field_shape) < 64:
            raise ValueError(f"field_shape {self.field_shape} is too small: at least 64 × 64")
        return self

    @property
    def conditions(self) -> list[str]:
        return list(self.condition_mixtures)

    def um_to_px(self, length_um: float) -> float:
        return length_um / self.pixel_size_um
