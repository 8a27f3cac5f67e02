"""Figures and the HTML report: what a user looks at after a run.

Submodules load on first use (``lazy_loader.attach``): matplotlib is imported when a
node first draws.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "figures": ["image_base64", "outline_overlay", "png_base64", "pyplot", "sample_grid"],
        "interactive": ["latent_map", "thumbnail"],
        "report": ["Section", "figure_section", "render_report", "table_section", "text_section"],
    },
)
