"""Data for the EM demos: seeded synthetic sets, Old Faithful, presets, and CSV uploads.

Only NumPy and SciPy are used here, so the data layer works without the app's UI stack.
"""

from emviz.data.generators import (
    PRESETS,
    Preset,
    jin_centres_1d,
    jin_centres_2d,
    jin_sample,
    load_faithful,
    load_preset,
    make_blobs,
    make_mixture_1d,
    make_two_mean_sample,
    ppca_sample,
    preset_is_generated,
    preset_names,
    symmetric_sample,
)
from emviz.data.missing import missing_sample
from emviz.data.reader import DataError, read_columns, read_points

__all__ = [
    "PRESETS",
    "DataError",
    "Preset",
    "jin_centres_1d",
    "jin_centres_2d",
    "jin_sample",
    "load_faithful",
    "load_preset",
    "make_blobs",
    "make_mixture_1d",
    "make_two_mean_sample",
    "ppca_sample",
    "missing_sample",
    "preset_is_generated",
    "preset_names",
    "read_columns",
    "read_points",
    "symmetric_sample",
]
