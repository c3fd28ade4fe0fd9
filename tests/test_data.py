"""Tests for emviz.data: CSV reading with student-friendly errors, generators and presets."""

import codecs
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emviz.data import (
    PRESETS,
    DataError,
    load_faithful,
    load_preset,
    make_blobs,
    make_mixture_1d,
    preset_is_generated,
    preset_names,
    read_columns,
    read_points,
)
from emviz.data import reader as reader_module
from emviz.data.checks import fit_obstacle, standardise

GOOD_CSV = "x,y\n1.0,2.0\n3.5,-4\n5e-1,6\n"
GOOD_POINTS = np.array([[1.0, 2.0], [3.5, -4.0], [0.5, 6.0]])


# --------------------------------------------------------------------------- good input


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_csv_with_header():
    points = read_points(GOOD_CSV.encode())
    assert points.dtype == np.float64 and points.shape == (3, 2)
    np.testing.assert_array_equal(points, GOOD_POINTS)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters_are_detected(delimiter):
    text = GOOD_CSV.replace(",", delimiter)
    np.testing.assert_array_equal(read_points(text.encode()), GOOD_POINTS)
    assert read_columns(text.encode()) == ["x", "y"]


def test_csv_without_header_names_columns_by_position():
    data = b"1,2,3\n4,5,6\n"
    assert read_columns(data) == ["column 1", "column 2", "column 3"]
    np.testing.assert_array_equal(read_points(data), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(read_points(data, columns=["column 3"]), [[3], [6]])


def test_utf8_bom_is_accepted():
    data = codecs.BOM_UTF8 + GOOD_CSV.encode()
    assert read_columns(data) == ["x", "y"]  # not "\ufeffx"
    np.testing.assert_array_equal(read_points(data), GOOD_POINTS)
    np.testing.assert_array_equal(read_points(io.StringIO("\ufeff" + GOOD_CSV)), GOOD_POINTS)


def test_utf16_with_bom_is_accepted():
    np.testing.assert_array_equal(read_points(GOOD_CSV.encode("utf-16")), GOOD_POINTS)


@pytest.mark.parametrize(
    "make_source",
    [
        lambda tmp: GOOD_CSV.encode(),
        lambda tmp: bytearray(GOOD_CSV.encode()),
        lambda tmp: io.BytesIO(GOOD_CSV.encode()),
        lambda tmp: io.StringIO(GOOD_CSV),
        lambda tmp: _write(tmp / "points.csv"),
        lambda tmp: str(_write(tmp / "points.csv")),
    ],
    ids=["bytes", "bytearray", "BytesIO", "StringIO", "Path", "str path"],
)
def test_every_kind_of_source(tmp_path, make_source):
    np.testing.assert_array_equal(read_points(make_source(tmp_path)), GOOD_POINTS)


def _write(path: Path) -> Path:
    path.write_text(GOOD_CSV, encoding="utf-8")
    return path


def test_open_file_objects(tmp_path):
    path = _write(tmp_path / "points.csv")
    with open(path, "rb") as binary, open(path, encoding="utf-8", newline="") as text:
        np.testing.assert_array_equal(read_points(binary), GOOD_POINTS)
        np.testing.assert_array_equal(read_points(text), GOOD_POINTS)


def test_same_upload_can_be_read_twice():
    # Streamlit reruns the page with the same UploadedFile, already read to the end.
    upload = io.BytesIO(GOOD_CSV.encode())
    assert read_columns(upload) == ["x", "y"]
    np.testing.assert_array_equal(read_points(upload), GOOD_POINTS)


def test_column_selection_and_order():
    data = b"name,a,b,c\nann,1,2,3\nbob,4,5,6\n"
    assert read_columns(data) == ["a", "b", "c"]  # the text column is not offered
    np.testing.assert_array_equal(read_points(data), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(read_points(data, columns=["c", "a"]), [[3, 1], [6, 4]])
    np.testing.assert_array_equal(read_points(data, columns="b"), [[2], [5]])


def test_quotes_spaces_crlf_and_blank_lines():
    data = b'"x", "y"\r\n\r\n "1.5", 2\r\n3 , 4\r\n\r\n'
    np.testing.assert_array_equal(read_points(data), [[1.5, 2.0], [3.0, 4.0]])


def test_blank_and_repeated_header_names_are_made_unique():
    assert read_columns(b"x,,x\n1,2,3\n4,5,6\n") == ["x", "column 2", "x (2)"]


def test_max_rows_is_inclusive():
    data = b"x\n" + b"".join(b"%d\n" % i for i in range(5))
    assert read_points(data, max_rows=5).shape == (5, 1)


# --------------------------------------------------------------------------- DataError cases


def test_empty_file():
    with pytest.raises(DataError, match="empty"):
        read_points(b"")
    with pytest.raises(DataError, match="empty"):
        read_columns(io.StringIO("\n  \n\n"))


def test_header_only():
    with pytest.raises(DataError, match=r'header row \("x", "y"\) but no data rows'):
        read_points(b"x,y\n")
    with pytest.raises(DataError, match="no data rows"):
        read_columns(b"x,y\n\n")


def test_no_numeric_columns():
    data = b"name,city\nann,Oslo\nbob,Rome\n"
    with pytest.raises(
        DataError, match=r'No column .* contains numbers \(columns: "name", "city"\)'
    ):
        read_points(data)
    with pytest.raises(DataError, match="contains numbers"):
        read_columns(data)


def test_non_numeric_cell_names_column_and_row():
    rows = "".join(f"{i},{i * i}\n" for i in range(5))
    data = f"x,y\n{rows}abc,1\n"  # the header is row 1, so "abc" is on row 7
    with pytest.raises(DataError, match='Column "x" has a non-numeric value "abc" on row 7'):
        read_points(data.encode())


def test_non_numeric_cell_in_a_chosen_text_column():
    with pytest.raises(DataError, match='Column "name" has a non-numeric value "ann" on row 2'):
        read_points(b"name,x\nann,1\nbob,2\n", columns=["name", "x"])


def test_decimal_comma_in_a_comma_separated_file_says_what_to_change():
    # "1,5" between comma separators could be 1.5 or 15: the reader says how to make it clear.
    expected = r'decimal commas \("1,5" on row 2\), .* semicolons ";" .* with a dot'
    with pytest.raises(DataError, match=expected):
        read_points(b'x,y\n"1,5",2\n3,4\n')
    with pytest.raises(DataError, match=expected):  # no column of numbers at all
        read_columns(b'x,y\n"1,5","2,25"\n"3,0","4,5"\n')


@pytest.mark.parametrize(
    "text",
    [
        "x;y\n1,5;2,25\n2,5;-3,75\n",  # European Excel: semicolons, decimal commas
        "1,5;2,25\n2,5;-3,75\n",  # the same without a header
        "x\ty\n1,5\t2,25\n2,5\t-3,75\n",  # tab-separated
        "x;y\n1,5;2,25\n2.5;-3,75\n",  # a dot here and there is still read
    ],
)
def test_decimal_commas_are_read_where_commas_do_not_separate_columns(text):
    np.testing.assert_array_equal(read_points(text.encode()), [[1.5, 2.25], [2.5, -3.75]])


def test_decimal_commas_in_a_text_column_are_not_numbers():
    assert read_columns(b"name;x\n1,5 kg;1,5\nb;2\n") == ["x"]


@pytest.mark.parametrize(
    "first_line, delimiter",
    [("sep=;", ";"), ("sep=,", ","), ("sep=\t", "\t"), ("sep=\\t", "\t"), ('"sep=;"', ";")],
)
def test_excel_separator_line_chooses_the_delimiter(first_line, delimiter):
    text = f"{first_line}\nx{delimiter}y\n1{delimiter}2\n3{delimiter}4\n"
    assert read_columns(text.encode()) == ["x", "y"]
    np.testing.assert_array_equal(read_points(text.encode()), [[1.0, 2.0], [3.0, 4.0]])


def test_separator_line_keeps_row_numbers_of_the_file():
    with pytest.raises(DataError, match='"oops" on row 4'):
        read_points(b"sep=;\r\nx;y\r\n1;2\r\n3;oops\r\n")


def test_separator_line_with_decimal_commas():
    np.testing.assert_array_equal(
        read_points(b"sep=;\nx;y\n1,5;2\n3;4,25\n"), [[1.5, 2], [3, 4.25]]
    )


def test_unusable_separator_line_says_what_to_change():
    with pytest.raises(DataError, match=r'"sep=a" names a column separator .* sep=, or sep=;'):
        read_points(b"sep=a\nx,y\n1,2\n3,4\n")


def test_nan_value_says_where():
    with pytest.raises(DataError, match=r'Column "y" has a NaN .* on row 3'):
        read_points(b"x,y\n1,2\n3,nan\n")


def test_infinite_value_says_where():
    with pytest.raises(DataError, match='Column "x" has an infinite value "-inf" on row 2'):
        read_points(b"x,y\n-inf,2\n3,4\n")
    with pytest.raises(DataError, match='infinite value "1e999" on row 3'):
        read_points(b"x\n1\n1e999\n")


def test_empty_cell_is_missing():
    with pytest.raises(DataError, match=r'Column "y" has an empty cell on row 3: missing values'):
        read_points(b"x,y\n1,2\n3,\n")


def test_missing_marker_is_missing():
    with pytest.raises(DataError, match='Column "y" has a missing value "NA" on row 2'):
        read_points(b"x,y\n1,NA\n3,4\n")


def test_too_few_rows():
    with pytest.raises(DataError, match="EM needs at least 2 points.*only 1 data row"):
        read_points(b"x,y\n1,2\n")
    with pytest.raises(DataError, match="at least 2 points"):
        read_points(b"1,2\n")


def test_single_distinct_point():
    with pytest.raises(DataError, match=r"All 3 rows are the same point \(1, 2\)"):
        read_points(b"x,y\n1,2\n1,2\n1.0,2e0\n")


def test_more_than_max_rows():
    data = b"x\n" + b"".join(b"%d\n" % i for i in range(6))
    with pytest.raises(DataError, match="more than 5 data rows"):
        read_points(data, max_rows=5)
    with pytest.raises(DataError, match="more than 5 data rows"):
        read_columns(data, max_rows=5)


def test_default_max_rows_is_200_000():
    data = b"x\n" + b"1\n2\n" * 100_001
    with pytest.raises(DataError, match="more than 200,000 data rows"):
        read_points(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "looks like an Excel workbook"),
        (b"x,y\n1,2\n\x00\x01\x02", "binary file"),
        ("größe,y\n1,2\n3,4\n".encode("latin-1"), r"not UTF-8 text \(unreadable byte 0xf6"),
        (b"\xff\xff\xff\xff", "not UTF-8"),
    ],
    ids=["png", "xlsx", "nul", "latin-1", "junk"],
)
def test_undecodable_bytes(data, message):
    with pytest.raises(DataError, match=message):
        read_points(data)
    with pytest.raises(DataError, match=message):
        read_columns(io.BytesIO(data))


def test_undecodable_text_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("größe\n1\n2\n".encode("latin-1"))
    with open(path, encoding="utf-8") as text_file, pytest.raises(DataError, match="not UTF-8"):
        read_points(text_file)


def test_unknown_column():
    with pytest.raises(DataError, match='no column named "z".*"x", "y"'):
        read_points(GOOD_CSV.encode(), columns=["x", "z"])


def test_bad_column_choices():
    with pytest.raises(DataError, match="choose at least one column"):
        read_points(GOOD_CSV.encode(), columns=[])
    with pytest.raises(DataError, match='"x" was chosen twice'):
        read_points(GOOD_CSV.encode(), columns=["x", "x"])
    with pytest.raises(DataError, match="list of column names"):
        read_points(GOOD_CSV.encode(), columns=3)


def test_ragged_rows():
    with pytest.raises(DataError, match="Row 3 has 3 values but the header row has 2"):
        read_points(b"x,y\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match="Row 2 has 1 value but the first row has 2"):
        read_columns(b"1;2\n3\n")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="There is no file"):
        read_points(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="Could not open"):
        read_points(str(tmp_path))  # a directory


def test_unsupported_source_type():
    with pytest.raises(DataError, match="Cannot read data from a int"):
        read_points(42)


def test_bad_max_rows():
    with pytest.raises(DataError, match="max_rows"):
        read_points(GOOD_CSV.encode(), max_rows=0)


def test_a_file_that_cannot_be_read_is_a_data_error():
    class BrokenFile(io.RawIOBase):
        def read(self, size=-1):
            raise OSError("connection reset")

    with pytest.raises(DataError, match="Could not read this file: connection reset"):
        read_points(BrokenFile())


def test_a_bug_in_the_reader_surfaces_as_itself(monkeypatch):
    # Only problems with the input become DataError; a bug must not pass as a bad file.
    def explode(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(reader_module, "_dialect", explode)
    for read in (read_columns, read_points):
        with pytest.raises(RuntimeError, match="boom"):
            read(GOOD_CSV.encode())


def test_oversized_field_becomes_data_error():
    with pytest.raises(
        DataError, match=r"Could not read this file as CSV: line 2: field larger than field limit"
    ):
        read_points(b"x\n" + b"1" * 200_000 + b"\n2\n")


# --------------------------------------------------------------------------- fuzzing


def _check_read_result(source):
    try:
        points = read_points(source)
    except DataError:
        return
    assert isinstance(points, np.ndarray) and points.dtype == np.float64
    assert points.ndim == 2 and points.shape[0] >= 2 and points.shape[1] >= 1
    assert np.all(np.isfinite(points))
    assert np.any(points != points[0])


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CSV_ALPHABET = "0123456789.,;\t\n\r -+eEnaifNA\"'x\ufeff"


@FUZZ
@given(st.binary())
def test_arbitrary_bytes_give_points_or_data_error(data):
    _check_read_result(data)


@FUZZ
@given(st.text())
def test_arbitrary_text_gives_points_or_data_error(text):
    _check_read_result(io.StringIO(text))
    _check_read_result(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.text(alphabet=CSV_ALPHABET, max_size=200))
def test_csv_like_text_gives_points_or_data_error(text):
    # Mostly digits and delimiters, so the fuzzing reaches the parsing and checking code.
    _check_read_result(text.encode())
    try:
        columns = read_columns(text.encode())
    except DataError:
        return
    assert columns and all(isinstance(name, str) for name in columns)


@FUZZ
@given(
    st.lists(
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3),
        min_size=2,
        max_size=20,
    ),
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),
)
def test_written_tables_read_back_exactly(rows, delimiter, with_header):
    # Arbitrary finite tables, written as CSV, come back unchanged (or are rejected only
    # because all rows are the same point).
    lines = [delimiter.join(repr(value) for value in row) for row in rows]
    if with_header:
        lines.insert(0, delimiter.join(["a", "b", "c"]))
    data = ("\n".join(lines) + "\n").encode()
    expected = np.array(rows)
    if np.all(expected == expected[0]):
        with pytest.raises(DataError, match="same point"):
            read_points(data)
    else:
        np.testing.assert_array_equal(read_points(data), expected)


@FUZZ
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.floats().map(repr), st.sampled_from(["", "NA", "abc", "1,5", " 7 ", '"8"'])
            ),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_tables_with_bad_cells_give_points_or_data_error(rows):
    _check_read_result(("x;y\n" + "\n".join(";".join(row) for row in rows)).encode())


@FUZZ
@given(st.text(alphabet=CSV_ALPHABET, max_size=200))
def test_fast_path_reads_exactly_what_the_careful_path_reads(text):
    # Files of numbers only skip the per-cell parsing; the result must not depend on that.
    def careful(source):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reader_module, "_numbers_only", lambda *args: None)
            return _outcome(source)

    assert _outcome(text.encode()) == careful(text.encode())


def _outcome(source):
    try:
        return ("points", read_points(source).tolist(), read_columns(source))
    except DataError as error:
        return ("error", str(error))


def test_a_large_numeric_file_is_read_in_one_vectorised_pass():
    # 200 000 rows of two columns (~4 MB): numpy's parser, not a Python loop per cell.
    rng = np.random.default_rng(0)
    expected = np.round(rng.normal(size=(200_000, 2)) * 10, 6)
    text = "x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in expected)
    table = reader_module._parse_table(text, reader_module.DEFAULT_MAX_ROWS)
    assert table.values is not None and not table.rows
    np.testing.assert_array_equal(read_points(text.encode()), expected)


# --------------------------------------------------------------------------- Old Faithful


def test_faithful_loads_with_known_column_sums():
    data = load_faithful()
    assert data.shape == (272, 2) and data.dtype == np.float64
    np.testing.assert_allclose(data.sum(axis=0), [948.677, 19284.0], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(data[0], [3.6, 79.0])


def test_faithful_standardised():
    data = load_faithful(standardize=True)
    np.testing.assert_allclose(data.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.std(axis=0), 1.0, atol=1e-12)  # ddof=0, as in PRML


def test_faithful_returns_fresh_copies():
    first = load_faithful()
    first[:] = 0.0
    assert load_faithful().sum() > 0


def test_faithful_file_is_package_data():
    from importlib import resources

    data_dir = resources.files("emviz.data")
    assert data_dir.joinpath("faithful.csv").is_file()
    assert "Azzalini" in data_dir.joinpath("PROVENANCE.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- generators


def test_make_blobs_shapes_and_label_counts():
    X, labels = make_blobs(301, 4, seed=3)
    assert X.shape == (301, 2) and X.dtype == np.float64
    assert labels.shape == (301,) and labels.dtype == np.int64
    assert sorted(np.bincount(labels, minlength=4)) == [75, 75, 75, 76]


def test_make_blobs_is_reproducible_and_seed_dependent():
    first, first_labels = make_blobs(seed=7, elongation=2.0)
    again, again_labels = make_blobs(seed=7, elongation=2.0)
    other, _ = make_blobs(seed=8, elongation=2.0)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_labels, again_labels)
    assert not np.allclose(first, other)


def test_generators_ignore_global_random_state():
    # The legacy global state is touched on purpose: the generators must not depend on it.
    np.random.seed(1)  # noqa: NPY002
    first = make_blobs(seed=5)[0], make_mixture_1d(seed=5)[0]
    np.random.seed(2)  # noqa: NPY002
    second = make_blobs(seed=5)[0], make_mixture_1d(seed=5)[0]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_generators_accept_a_generator():
    X, _ = make_blobs(seed=np.random.default_rng(4))
    Y, _ = make_blobs(seed=np.random.default_rng(4))
    np.testing.assert_array_equal(X, Y)


def _cluster_covariances(X, labels):
    return [np.cov(X[labels == k].T) for k in np.unique(labels)]


@pytest.mark.parametrize("elongation", [1.0, 3.0])
def test_elongation_sets_the_axis_ratio(elongation):
    X, labels = make_blobs(6000, 3, separation=5.0, elongation=elongation, seed=11)
    for cov in _cluster_covariances(X, labels):
        small, large = np.linalg.eigvalsh(cov)
        assert large / small == pytest.approx(elongation**2, rel=0.25)


def test_overlap_keeps_the_shape_but_inflates_the_spread():
    X, labels = make_blobs(6000, 3, elongation=2.0, overlap=0.5, seed=2)
    for cov in _cluster_covariances(X, labels):
        small, large = np.linalg.eigvalsh(cov)
        assert large / small == pytest.approx(4.0, rel=0.25)
        assert np.sqrt(small) == pytest.approx(1.5, rel=0.15)  # short-axis std 1 + overlap


def _separation_ratio(X, labels):
    """Smallest distance between cluster means over the largest within-cluster std."""
    means = np.array([X[labels == k].mean(axis=0) for k in np.unique(labels)])
    distances = np.linalg.norm(means[:, None] - means[None, :], axis=-1)
    closest = distances[~np.eye(len(means), dtype=bool)].min()
    spread = max(np.sqrt(np.linalg.eigvalsh(c)[-1]) for c in _cluster_covariances(X, labels))
    return closest / spread


def test_separation_parameter_sets_centre_distance():
    X, labels = make_blobs(6000, 3, separation=4.0, seed=9)
    assert _separation_ratio(X, labels) == pytest.approx(4.0, rel=0.15)


def test_heavy_overlap_preset_is_less_separated():
    heavy = PRESETS["Heavy overlap"].sample(seed=0)
    well = PRESETS["Well-separated blobs"].sample(seed=0)
    assert _separation_ratio(*heavy) < 0.5 * _separation_ratio(*well)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 2, "n_components": 3}, "n_samples"),
        ({"n_samples": 10.5}, "n_samples"),
        ({"n_components": 0}, "n_components"),
        ({"separation": -1.0}, "separation"),
        ({"separation": float("nan")}, "separation"),
        ({"elongation": 0.5}, "elongation"),
        ({"overlap": 1.0}, r"overlap must be in \[0, 1\)"),
        ({"overlap": -0.1}, "overlap"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_make_blobs_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_blobs(**kwargs)


def test_make_mixture_1d_shapes_weights_and_reproducibility():
    x, labels = make_mixture_1d(20_000, means=(-5.0, 5.0), stds=(1.0, 1.0), weights=(0.3, 0.7))
    assert x.shape == (20_000,) and labels.shape == (20_000,) and x.dtype == np.float64
    assert np.bincount(labels)[0] / len(labels) == pytest.approx(0.3, abs=0.02)
    assert x[labels == 0].mean() == pytest.approx(-5.0, abs=0.05)
    np.testing.assert_array_equal(x, make_mixture_1d(20_000, (-5, 5), (1, 1), (0.3, 0.7))[0])
    assert not np.allclose(make_mixture_1d(seed=0)[0], make_mixture_1d(seed=1)[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stds": (1.0,)}, "stds has 1 entries"),
        ({"stds": (1.0, 0.0)}, "stds must all be > 0"),
        ({"weights": (0.5, 0.6)}, "sum to 1"),
        ({"weights": (1.5, -0.5)}, "non-negative"),
        ({"means": ()}, "means must be a non-empty"),
        ({"n_samples": 0}, "n_samples"),
    ],
)
def test_make_mixture_1d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_mixture_1d(**kwargs)


# --------------------------------------------------------------------------- presets


def test_preset_names_are_exact():
    assert preset_names() == [
        "Well-separated blobs",
        "Elongated clusters",
        "Heavy overlap",
        "Old Faithful (standardised)",
        "1-D two-component mixture",
    ]
    assert list(PRESETS) == preset_names()


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_a_2d_float_array(name):
    X = load_preset(name)
    assert X.dtype == np.float64 and X.ndim == 2 and np.all(np.isfinite(X))
    assert X.shape == (PRESETS[name].default_n_samples, PRESETS[name].n_features)


def test_generated_presets_follow_size_and_seed():
    X = load_preset("Elongated clusters", n_samples=123, seed=4)
    assert X.shape == (123, 2)
    np.testing.assert_array_equal(X, load_preset("Elongated clusters", n_samples=123, seed=4))
    assert not np.allclose(X, load_preset("Elongated clusters", n_samples=123, seed=5))


def test_one_dimensional_preset_has_one_column():
    assert load_preset("1-D two-component mixture", n_samples=50).shape == (50, 1)


def test_faithful_preset_is_fixed():
    assert not preset_is_generated("Old Faithful (standardised)")
    assert all(preset_is_generated(n) for n in preset_names() if "Faithful" not in n)
    fixed = load_preset("Old Faithful (standardised)", n_samples=10, seed=3)
    np.testing.assert_array_equal(fixed, load_faithful(standardize=True))


def test_unknown_preset():
    with pytest.raises(ValueError, match="Unknown preset 'Nope'"):
        load_preset("Nope")
    with pytest.raises(ValueError, match="Unknown preset"):
        preset_is_generated("Nope")


# --------------------------------------------------------------------------- data EM cannot fit


def _obstacle(text: str, k: int, **options) -> str | None:
    points = read_points(text.encode())
    return fit_obstacle(points, k, names=read_columns(text.encode()), **options)


CONSTANT_COLUMN = "x,y\n1,5\n2,5\n4,5\n7,5\n"
TRIANGLE_REPEATED = "x,y\n" + "0,0\n1,0\n0,1\n" * 4  # 3 distinct points in 12 rows
HUGE = "x,y\n" + "".join(f"{i}e300,{(7 * i) % 5}e300\n" for i in range(1, 30))
TINY = "x,y\n" + "".join(f"{i}e-300,{(7 * i) % 5}e-300\n" for i in range(1, 30))
TWO_ROWS = "x,y\n1,2\n3,5\n"


def test_constant_column_is_named_with_its_value_and_the_fix():
    message = _obstacle(CONSTANT_COLUMN, 2)
    assert message.startswith('Column "y" has the same value (5) in every row')
    assert "Drop that column" in message and "reg_covar" in message


def test_a_constant_column_is_no_obstacle_with_reg_covar_or_spherical_covariances():
    assert _obstacle(CONSTANT_COLUMN, 2, reg_covar=1e-6) is None
    assert _obstacle(CONSTANT_COLUMN, 2, covariance_type="spherical") is None


def test_fewer_distinct_points_than_components_counts_them():
    message = _obstacle(TRIANGLE_REPEATED, 4)
    assert message == (
        "This data has only 3 distinct points (the other 9 rows repeat them), too few for "
        "K = 4 components. Choose K ≤ 3."
    )
    assert _obstacle(TRIANGLE_REPEATED, 3) is None


def test_fewer_points_than_components():
    assert _obstacle(TWO_ROWS, 3) == (
        "K = 3 components need at least 3 points, but this data has only 2. "
        "Choose K ≤ 2, or add more rows."
    )


def test_two_points_lie_on_a_line_for_a_full_covariance():
    message = _obstacle(TWO_ROWS, 1)
    assert message.startswith("All the points lie on one straight line")
    assert _obstacle(TWO_ROWS, 1, covariance_type="diag") is None


@pytest.mark.parametrize(
    "text, words",
    [(HUGE, "span about 3e+301, so large that"), (TINY, "span only about 3e-299, so small")],
)
def test_extreme_values_ask_for_standardising(text, words):
    message = _obstacle(text, 2, reg_covar=1e-6)  # reg_covar cannot help here
    assert f'The values of column "x" {words}' in message
    assert 'Tick "Standardise columns"' in message


def test_columns_on_very_different_scales_ask_for_standardising():
    points = np.column_stack([np.arange(10.0) * 1e10, np.arange(10.0) % 2])
    message = fit_obstacle(points, 2, names=["big", "small"])
    assert message.startswith('Column "big" spreads about 9e+10 times wider than column "small"')
    assert fit_obstacle(points * [1e-5, 1.0], 2) is None  # 1e5 apart: EM copes


@pytest.mark.parametrize("text", [HUGE, TINY, GOOD_CSV])
def test_standardise_gives_mean_0_and_sd_1_without_changing_its_input(text):
    points = read_points(text.encode())
    before = points.copy()
    scaled = standardise(points)
    np.testing.assert_array_equal(points, before)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-12)
    if text == GOOD_CSV:  # the textbook formula, where it does not overflow
        textbook = (points - points.mean(axis=0)) / points.std(axis=0)
        np.testing.assert_allclose(scaled, textbook, rtol=1e-12)
    assert fit_obstacle(scaled, 2) is None


def test_standardise_leaves_a_constant_column_at_zero():
    scaled = standardise([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(scaled, [[-1.0, 0.0], [1.0, 0.0]], rtol=1e-15)
