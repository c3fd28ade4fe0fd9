"""Read a student's CSV file into an array of points, with errors a student can act on.

Every problem with the input (unreadable bytes, text that is not a table of numbers, bad
cells, too many rows) leaves this module's public functions as :class:`DataError` (a
``ValueError``), whose message says in plain words what is wrong and where, so the app can
show it as is. Anything else is a bug in the reader and propagates as it is. Row numbers in
messages count the lines of the file from 1, header included, so they match what a text
editor or spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_MAX_ROWS = 200_000

_DELIMITERS = (",", ";", "\t")  # ties go to the earlier one
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SNIFF_ROWS = 30  # rows looked at to choose the delimiter
_SHOWN_CELL_CHARS = 40  # cells quoted in messages are cut to this length
_SHOWN_NAMES = 10  # column names listed in messages
# Spellings of "no value here" that spreadsheets and R/pandas exports commonly write.
_MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "--"})
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
# Excel's first line naming the separator, e.g. "sep=;" (tab written as a tab or as \t).
_SEPARATOR_LINE = re.compile(r'"?sep=(\\t|[^\r\n])"?[ \t]*(?=\r|\n|$)', re.IGNORECASE)
# File signatures of things students upload by mistake instead of a CSV.
_BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "an Excel workbook or a zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
}


class DataError(ValueError):
    """The data cannot be used; the message explains why in words a student understands."""


# --------------------------------------------------------------------------- getting text


def _read_source(source) -> str:
    """Return the text of a path, bytes, or binary/text file object."""
    if isinstance(source, str | os.PathLike):
        return _decode(_read_path(source))
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode(bytes(source))
    if hasattr(source, "read"):
        return _read_file_object(source)
    raise DataError(
        f"Cannot read data from a {type(source).__name__}; "
        "give a file path, the file's bytes, or an open file."
    )


def _read_path(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"There is no file at {str(path)!r}.") from None
    except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL character in the path
        raise DataError(f"Could not open the file {str(path)!r}: {exc}") from None


def _read_file_object(file) -> str:
    # Rewind first: Streamlit hands the same UploadedFile to every rerun of the page, and a
    # second read() from the end would look like an empty file.
    try:
        if getattr(file, "seekable", lambda: False)():
            file.seek(0)
        content = file.read()
    except UnicodeDecodeError as exc:  # a text-mode file whose bytes are not its encoding
        raise DataError(_not_utf8_message(exc)) from None
    except OSError as exc:  # the file itself could not be read (a network drive, a pipe)
        raise DataError(f"Could not read this file: {exc}") from None
    if isinstance(content, str):
        return _clean_text(content)
    if isinstance(content, bytes | bytearray | memoryview):
        return _decode(bytes(content))
    raise DataError(f"Reading the file gave a {type(content).__name__} instead of text.")


def _decode(raw: bytes) -> str:
    for signature, kind in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise DataError(_binary_message(kind))
    # UTF-16 only with a byte-order mark (Excel's "Unicode text"); otherwise UTF-8, where
    # "utf-8-sig" also drops the BOM Excel writes at the start of "CSV UTF-8" files.
    is_utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return _clean_text(raw.decode("utf-16" if is_utf16 else "utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(exc)) from None


def _clean_text(text: str) -> str:
    text = text.removeprefix("\ufeff")
    if "\x00" in text:  # NUL never appears in text files, but always in binary ones
        raise DataError(_binary_message("a binary file"))
    if not text.strip():
        raise DataError("The file is empty: it has no rows at all.")
    return text


def _binary_message(kind: str) -> str:
    return (
        f"This does not look like a CSV file; it looks like {kind}. "
        "Upload a .csv file: plain text with one row of numbers per line."
    )


def _not_utf8_message(exc: UnicodeDecodeError) -> str:
    bad_byte = exc.object[exc.start : exc.start + 1].hex()
    return (
        f"This file is not UTF-8 text (unreadable byte 0x{bad_byte} at position {exc.start}), "
        "so it is probably not a CSV file. If you saved it from Excel, choose the format "
        '"CSV UTF-8 (comma delimited)".'
    )


# --------------------------------------------------------------------------- cells


def _parse_float(cell: str) -> float | None:
    """The cell as a float (NaN and inf included), or None if it is not a number."""
    try:
        return float(cell)
    except ValueError:  # float() of a str raises it only for text that is not a number
        return None


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in _MISSING_MARKERS


@dataclass(frozen=True)
class _Dialect:
    """How the file writes its cells: the column separator and the decimal mark."""

    delimiter: str
    decimal_comma: bool = False  # "1,5" means 1.5 (only when columns are not comma-separated)

    def number(self, cell: str) -> float | None:
        """The cell as a float (NaN and inf included), or None if it is not a number."""
        return _parse_float(cell.replace(",", ".") if self.decimal_comma else cell)

    def is_text(self, cell: str) -> bool:
        return not _is_missing(cell) and self.number(cell) is None

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES.get(self.delimiter, f'"{self.delimiter}"')


def _show(cell: str) -> str:
    cell = cell.strip()
    return cell if len(cell) <= _SHOWN_CELL_CHARS else cell[: _SHOWN_CELL_CHARS - 3] + "..."


def _bad_cell_message(column: str, cell: str, row: int, dialect: _Dialect) -> str:
    where = f'Column "{column}"'
    fix = "Fill it in or delete that row. Missing values? The page 'Missing data' fits them."
    value = dialect.number(cell)
    if not cell.strip():
        return f"{where} has an empty cell on row {row}: missing values are not allowed. {fix}"
    if value is not None and math.isnan(value):
        return f"{where} has a NaN (not-a-number) value on row {row}. {fix}"
    if value is not None:
        return f'{where} has an infinite value "{_show(cell)}" on row {row}; use finite numbers.'
    if _is_missing(cell):
        return (
            f'{where} has a missing value "{_show(cell)}" on row {row}: '
            f"missing values are not allowed. {fix}"
        )
    if _DECIMAL_COMMA.fullmatch(cell.strip()):
        return _decimal_comma_message(cell, row)
    return f'{where} has a non-numeric value "{_show(cell)}" on row {row}.'


def _decimal_comma_message(cell: str, row: int) -> str:
    # Reached only when commas also separate the columns: "1,5" could then be 1.5 or 15 (a
    # thousands separator), so the reader does not guess.
    return (
        f'Your file seems to use decimal commas ("{_show(cell)}" on row {row}), but commas '
        'also separate its columns. Save it with semicolons ";" between the columns, or '
        "write the decimals with a dot (1.5, not 1,5)."
    )


def _quoted_list(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(f'"{_show(name)}"' for name in names[:_SHOWN_NAMES])
    return shown + (f" and {len(names) - _SHOWN_NAMES} more" if len(names) > _SHOWN_NAMES else "")


# --------------------------------------------------------------------------- parsing


@dataclass
class _Table:
    """The file's data rows: ``rows[i][j]`` (a string) is in column ``names[j]``.

    A file of numbers only is read in one vectorised pass into ``values`` (every column, as
    floats) and keeps no strings; any other file keeps its cells as strings, parsed column by
    column on demand (see `_column_floats`) so messages can quote the cell at fault.
    """

    names: list[str]
    dialect: _Dialect
    rows: list[list[str]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # file line ending each row
    parsed: dict[int, list[float | None]] = field(default_factory=dict)  # see _column_floats
    values: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.values) if self.values is not None else len(self.rows)


def _csv_rows(text: str, delimiter: str):
    """Yield (line number, cells) for each non-blank row.

    Raises
    ------
    DataError
        Where Python's csv module cannot split the text (say a cell longer than its limit).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        for cells in reader:
            if len(cells) > 1 or (cells and cells[0].strip()):  # skip blank lines
                yield reader.line_num, cells
    except csv.Error as exc:
        raise DataError(
            f"Could not read this file as CSV: line {reader.line_num}: {exc}."
        ) from None


def _sniffed_rows(text: str, delimiter: str) -> list[list[str]]:
    try:
        return [cells for _, cells in itertools.islice(_csv_rows(text, delimiter), _SNIFF_ROWS)]
    except DataError:  # text this delimiter cannot split scores as no rows; reading reports it
        return []


def _delimiter_score(text: str, delimiter: str) -> tuple[bool, bool, float]:
    # Prefer a delimiter that splits rows at all, then one giving every row the same width,
    # then one giving more numeric cells (the first row is left out: it may be a header).
    rows = _sniffed_rows(text, delimiter)
    widths = {len(cells) for cells in rows}
    cells = [cell for row in (rows[1:] or rows) for cell in row]
    dialect = _Dialect(delimiter, decimal_comma=delimiter != ",")  # "1,5" counts as a number
    numeric = sum(dialect.number(cell) is not None for cell in cells) / max(len(cells), 1)
    return (max(widths, default=0) > 1, len(widths) == 1, numeric)


def _uses_decimal_comma(text: str, delimiter: str) -> bool:
    """Whether the numbers are written like "1,5": only where commas do not separate columns."""
    if delimiter == ",":
        return False
    rows = _sniffed_rows(text, delimiter)
    return any(_DECIMAL_COMMA.fullmatch(cell.strip()) for row in rows for cell in row)


def _separator_line(text: str) -> tuple[str, str | None]:
    """(text, delimiter) where Excel's first line "sep=;" names the delimiter; that line is
    blanked (not removed) so row numbers in messages still match the file."""
    match = _SEPARATOR_LINE.match(text)
    if match is None:
        return text, None
    delimiter = "\t" if match.group(1).lower() == "\\t" else match.group(1)
    if delimiter.isalnum() or delimiter in "\"' ":
        raise DataError(
            f'The first line "{_show(match.group(0))}" names a column separator this app cannot '
            "use. Change it to sep=, or sep=; (or delete that line)."
        )
    return text[match.end() :], delimiter


def _dialect(text: str) -> tuple[str, _Dialect]:
    """The text to read (without a "sep=" line) and how its cells are written."""
    text, delimiter = _separator_line(text)
    if delimiter is None:
        delimiter = max(_DELIMITERS, key=lambda candidate: _delimiter_score(text, candidate))
    return text, _Dialect(delimiter, _uses_decimal_comma(text, delimiter))


def _column_names(header: list[str]) -> list[str]:
    # Blank names get a placeholder and repeated names a suffix, so every column can be
    # picked by name.
    names: list[str] = []
    for position, cell in enumerate(header, start=1):
        name = cell.strip() or f"column {position}"
        base, copy = name, 2
        while name in names:
            name, copy = f"{base} ({copy})", copy + 1
        names.append(name)
    return names


def _too_many_rows(max_rows: int) -> DataError:
    return DataError(
        f"This file has more than {max_rows:,} data rows, the most this app accepts. "
        "Use a random sample of the rows instead."
    )


def _parse_table(text: str, max_rows: int) -> _Table:
    text, dialect = _dialect(text)
    rows = _csv_rows(text, dialect.delimiter)
    first_line, first = next(rows, (0, None))
    if first is None:
        raise DataError("The file is empty: it has no rows at all.")
    # A first row with any text in it is a header; an all-numeric first row is data.
    has_header = any(dialect.is_text(cell) for cell in first)
    names = (
        _column_names(first)
        if has_header
        else [f"column {position}" for position in range(1, len(first) + 1)]
    )
    values = _numbers_only(text, dialect, first_line if has_header else 0, len(names), max_rows)
    if values is not None:
        return _Table(names, dialect, values=values)
    table = _Table(names, dialect)
    if not has_header:
        table.rows.append(first)
        table.line_numbers.append(first_line)
    for line, cells in rows:
        if len(cells) != len(table.names):
            raise DataError(_ragged_message(line, len(cells), len(names), has_header, dialect))
        if len(table.rows) == max_rows:
            raise _too_many_rows(max_rows)
        table.rows.append(cells)
        table.line_numbers.append(line)
    if not table.rows:
        raise DataError(
            f"The file has a header row ({_quoted_list(table.names)}) but no data rows below it."
        )
    return table


def _numbers_only(
    text: str, dialect: _Dialect, skip_lines: int, width: int, max_rows: int
) -> np.ndarray | None:
    """Every data row as floats, read in one vectorised pass (numpy's C parser), or None
    when some row needs the careful reading that can say what is wrong with it: a text or
    missing cell, NaN or inf, a row of another width."""
    if dialect.decimal_comma:
        text = text.replace(",", ".")  # safe here: a comma never separates these columns
    try:
        with warnings.catch_warnings():
            # a header without data rows is reported by the careful reading
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            # blank lines are not rows: max_rows counting only rows is what is wanted here
            warnings.filterwarnings("ignore", r"Input line \d+ contained no data", UserWarning)
            values = np.loadtxt(
                io.StringIO(text, newline=None),
                dtype=np.float64,
                delimiter=dialect.delimiter,
                comments=None,
                quotechar='"',
                skiprows=skip_lines,
                max_rows=max_rows + 1,
                ndmin=2,
            )
    except ValueError:  # loadtxt's signal for text it cannot parse; the careful reading says where
        return None
    if len(values) > max_rows:
        raise _too_many_rows(max_rows)
    if len(values) == 0 or values.shape[1] != width or not np.isfinite(values).all():
        return None
    return values


def _ragged_message(line: int, width: int, expected: int, has_header: bool, dialect) -> str:
    reference = "the header row has" if has_header else "the first row has"
    return (
        f"Row {line} has {width} value{'s' if width != 1 else ''} but {reference} {expected}. "
        f"Every row needs the same number of values: look for a missing or extra "
        f"{dialect.delimiter_name} on row {line}."
    )


def _column_floats(table: _Table, index: int) -> list[float | None]:
    # Parsed once and cached: choosing the numeric columns and building the array both
    # need every cell's value, and parsing dominates the time for large files.
    if index not in table.parsed:
        table.parsed[index] = [table.dialect.number(row[index]) for row in table.rows]
    return table.parsed[index]


def _is_numeric_column(table: _Table, index: int) -> bool:
    # Numeric if it has numbers and at least as many numbers as text (missing cells, NaN
    # included, don't vote): a number column with a typo is then offered -- and the typo
    # reported by row -- rather than silently dropped, while a column of names is left out.
    if table.values is not None:
        return True
    values = _column_floats(table, index)
    numbers = sum(1 for value in values if value is not None and not math.isnan(value))
    texts = sum(
        1 for value, row in zip(values, table.rows) if value is None and not _is_missing(row[index])
    )
    return numbers > 0 and numbers >= texts


def _numeric_columns(table: _Table) -> list[str]:
    numeric = [name for j, name in enumerate(table.names) if _is_numeric_column(table, j)]
    if not numeric:
        decimal = _first_decimal_comma(table)
        if decimal is not None:
            raise DataError(_decimal_comma_message(*decimal))
        raise DataError(
            f"No column of this file contains numbers (columns: {_quoted_list(table.names)}). "
            "EM needs numeric columns, such as measurements."
        )
    return numeric


def _first_decimal_comma(table: _Table) -> tuple[str, int] | None:
    """(cell, row) of the first cell written like "1,5", if any."""
    for row, line in zip(table.rows, table.line_numbers):
        for cell in row:
            if _DECIMAL_COMMA.fullmatch(cell.strip()):
                return cell, line
    return None


def _chosen_indices(table: _Table, columns) -> list[int]:
    if columns is None:
        columns = _numeric_columns(table)
    elif isinstance(columns, str):  # one name, not a sequence of one-letter names
        columns = [columns]
    try:
        columns = list(columns)
    except TypeError:
        raise DataError("columns must be a list of column names.") from None
    if not columns:
        raise DataError("No columns were chosen: choose at least one column.")
    indices = []
    for name in columns:
        if name not in table.names:
            raise DataError(
                f'There is no column named "{_show(str(name))}". '
                f"The columns in this file are: {_quoted_list(table.names)}."
            )
        if table.names.index(name) in indices:
            raise DataError(f'Column "{name}" was chosen twice; choose each column once.')
        indices.append(table.names.index(name))
    return indices


def _to_array(table: _Table, indices: list[int], allow_missing: bool = False) -> np.ndarray:
    # Convert whole columns first (fast); only if something is wrong, find the first bad cell
    # in reading order so the message points at the top-most problem.
    if table.values is not None:  # all finite numbers, checked as they were read
        return np.ascontiguousarray(table.values[:, indices])
    columns = [_column_floats(table, j) for j in indices]
    points = np.array(columns, dtype=np.float64).T  # None becomes NaN
    bad = np.argwhere(~np.isfinite(points))
    if allow_missing:  # blanks and NA markers stay NaN; text and infinities are still wrong
        missing = [_is_missing(table.rows[i][indices[k]]) for i, k in bad]
        points[tuple(bad[missing].T)] = np.nan
        bad = bad[np.logical_not(missing)]
    if bad.size:
        i, k = bad[0]
        j = indices[k]
        cell, line = table.rows[i][j], table.line_numbers[i]
        raise DataError(_bad_cell_message(table.names[j], cell, line, table.dialect))
    return np.ascontiguousarray(points)


def _check_points(points: np.ndarray) -> None:
    if np.all(points == points[0]):
        shown = ", ".join(f"{value:g}" for value in points[0][:_SHOWN_NAMES])
        raise DataError(
            f"All {len(points)} rows are the same point ({shown}). "
            "EM needs at least two different points to fit anything."
        )


def _check_max_rows(max_rows) -> int:
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 2:
        raise DataError(f"max_rows must be an integer >= 2, got {max_rows!r}.")
    return max_rows


# --------------------------------------------------------------------------- public API


def read_columns(source, max_rows: int = DEFAULT_MAX_ROWS) -> list[str]:
    """List the numeric columns of a CSV file, for a column picker.

    Parameters
    ----------
    source : str, pathlib.Path, bytes, or file object
        A path, the file's bytes, or a binary or text file object (such as Streamlit's
        ``UploadedFile``; seekable objects are read from the start).
    max_rows : int, default 200_000
        Largest number of data rows accepted.

    Returns
    -------
    list of str
        Names of the columns holding numbers (at least as many numbers as text cells), in
        file order. Without a header row the columns are named ``"column 1"``, ...

    Raises
    ------
    DataError
        If the file is empty, not UTF-8 text, has no data rows, has rows of different
        lengths, has more than ``max_rows`` rows, or has no numeric column. Problems with
        individual values are left to :func:`read_points`.
    """
    return _numeric_columns(_parse_table(_read_source(source), _check_max_rows(max_rows)))


def read_points(
    source, columns=None, max_rows: int = DEFAULT_MAX_ROWS, *, allow_missing: bool = False
) -> np.ndarray:
    """Read points from a CSV file, checking that EM can use them.

    The delimiter (comma, semicolon or tab) is detected, or taken from Excel's first line
    ``sep=;``. Where commas do not separate the columns, decimal commas (``1,5``) are read.
    The first row is a header if any of its cells is text; otherwise it is data and the
    columns are named ``"column 1"``, ``"column 2"``, ... Blank lines are skipped.

    Parameters
    ----------
    source : str, pathlib.Path, bytes, or file object
        A path, the file's bytes, or a binary or text file object (such as Streamlit's
        ``UploadedFile``; seekable objects are read from the start). Bytes must be UTF-8,
        with or without a byte-order mark.
    columns : list of str, str, or None, default None
        Names of the columns to use, in the order wanted; None uses every numeric column
        (see :func:`read_columns`).
    max_rows : int, default 200_000
        Largest number of data rows accepted.
    allow_missing : bool, default False
        Read blank cells and missing-value markers ("NA", "nan", "?", …) as NaN instead of
        rejecting them (for the page that fits data with missing values).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        Finite values (or NaN where a value is missing, with ``allow_missing``),
        ``n_samples >= 2``, with at least two distinct rows.

    Raises
    ------
    DataError
        For any problem with the input (and for nothing else); the message names the
        column and row at fault where there is one.
    """
    table = _parse_table(_read_source(source), _check_max_rows(max_rows))
    indices = _chosen_indices(table, columns)
    if table.n_rows < 2:
        raise DataError(
            "EM needs at least 2 points, but this file has only 1 data row. Add more rows."
        )
    points = _to_array(table, indices, allow_missing)
    _check_points(points)
    return points
