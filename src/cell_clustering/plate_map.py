"""A plate map: which condition, plate, well and site each image file belongs to.

Image-profiling tools (CellProfiler, Pycytominer) describe an experiment with a table
of one row per image file; its columns travel with every cell as ``Metadata_<name>``
columns. Here the table has a ``file`` column (the file's path inside the input
folder, with or without its suffix) and any others; ``condition`` sets the field's
condition (the folder name is used where there is no plate map).
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

import pandas as pd

from cell_clustering.fields import FieldError

logger = logging.getLogger(__name__)

METADATA_PREFIX = "Metadata_"


def field_key(file: str) -> str:
    """The field key of a plate-map ``file`` entry: forward slashes, no ``./``, no image suffix."""
    path = PurePosixPath(str(file).strip().replace("\\", "/").removeprefix("./"))
    return str(path.with_suffix("")) if path.suffix.lower() in (".tif", ".tiff", ".png") else str(path)


def metadata_name(column: str) -> str:
    """``Metadata_<column>``, Pycytominer's convention (kept as is when already prefixed)."""
    return column if column.startswith(METADATA_PREFIX) else f"{METADATA_PREFIX}{column}"


def _indexed(plate_map: pd.DataFrame) -> pd.DataFrame:
    if "file" not in plate_map.columns:
        raise FieldError(
            f"The plate map has no 'file' column (its columns: {', '.join(map(str, plate_map.columns))}). "
            "Give each image file's path inside the input folder in a column named 'file'."
        )
    keyed = plate_map.assign(field=plate_map["file"].map(field_key)).drop(columns="file")
    repeated = keyed["field"][keyed["field"].duplicated()].unique()
    if len(repeated):
        raise FieldError(f"The plate map lists these files more than once: {', '.join(repeated[:10])}.")
    return keyed.set_index("field")


def _check_coverage(fields: pd.Series, mapped: pd.DataFrame) -> None:
    missing = sorted(set(fields) - set(mapped.index))
    if missing:
        raise FieldError(
            f"{len(missing)} image file(s) are not in the plate map, e.g. {', '.join(missing[:5])}. "
            "Add a row for each (its 'file' is the path inside the input folder), or move the files out."
        )
    absent = sorted(set(mapped.index) - set(fields))
    if absent:
        logger.warning("%d plate-map row(s) name no image file found: %s", len(absent), ", ".join(absent[:10]))


def _check_conditions(table: pd.DataFrame, mapped_conditions: pd.Series) -> None:
    """A field in a condition folder must have that condition in the map too."""
    from_folders = table.set_index("field")["condition"]
    foldered = from_folders[from_folders != "unknown"]
    disagree = [
        f"{field} (folder '{folder}', plate map '{mapped_conditions[field]}')"
        for field, folder in foldered.items()
        if field in mapped_conditions and str(mapped_conditions[field]) != folder
    ]
    if disagree:
        raise FieldError(
            "The plate map and the folder names disagree on the condition of: " + "; ".join(disagree[:10])
            + ". Fix the plate map, or move the files, so that both say the same."
        )


def apply_plate_map(table: pd.DataFrame, plate_map: pd.DataFrame) -> pd.DataFrame:
    """The field table with each field's condition and ``Metadata_*`` columns from the map.

    Parameters
    ----------
    table : pandas.DataFrame
        The field table: ``field``, ``condition`` (from folder names), ``status``.
    plate_map : pandas.DataFrame
        Empty (no plate map), or a ``file`` column and any others.

    Raises
    ------
    FieldError
        No ``file`` column, a file listed twice, a readable field missing from the map,
        or a condition that contradicts the field's folder.
    """
    if plate_map is None or plate_map.empty:
        return table
    mapped = _indexed(plate_map)
    _check_coverage(table.loc[table["status"] == "ok", "field"], mapped)
    table = table.copy()
    if "condition" in mapped.columns:
        conditions = mapped["condition"].astype(str)
        _check_conditions(table, conditions)
        table["condition"] = table["field"].map(conditions).fillna(table["condition"])
    for column in mapped.columns.drop("condition", errors="ignore"):
        table[metadata_name(str(column))] = table["field"].map(mapped[column])
    return table


def metadata_columns(table: pd.DataFrame) -> list[str]:
    """The ``Metadata_*`` columns of a table, in order."""
    return [column for column in table.columns if str(column).startswith(METADATA_PREFIX)]
