"""A static HTML report assembled from a list of sections (PNGs inline: it opens
from disk with no server and no internet)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}"
)


@dataclass(frozen=True)
class Section:
    """One titled part of the report; ``body`` is HTML."""

    title: str
    body: str


def table_section(title: str, table: pd.DataFrame, note: str = "") -> Section:
    """A table (floats to 4 significant digits), with an optional note below it."""
    body = table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
    return Section(title, body + (f"<p>{html.escape(note)}</p>" if note else ""))


def figure_section(title: str, png_base64: str) -> Section:
    """An inline PNG figure."""
    return Section(title, f"<img alt='{html.escape(title)}' src='data:image/png;base64,{png_base64}'>")


def text_section(title: str, text: str) -> Section:
    """A paragraph of plain text (escaped)."""
    return Section(title, f"<p>{html.escape(text)}</p>")


def render_report(title: str, sections: Sequence[Section], introduction: str = "") -> str:
    """The whole page: a heading, an optional introduction (HTML) and every section."""
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        introduction,
    ]
    for section in sections:
        parts += [f"<h2>{html.escape(section.title)}</h2>", section.body]
    parts.append("</body></html>")
    return "\n".join(part for part in parts if part)
