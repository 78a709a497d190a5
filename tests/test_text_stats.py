"""length_stats numbers on a known list; the histogram PNG."""

import pytest
from test_text_corpus import imdb_reviews

from rnnlab.errors import InvalidInputError
from rnnlab.text import Tokenizer, length_stats, plot_length_histogram

LENGTHS = [10, 20, 30, 40, 100]


def test_numbers_on_a_known_list():
    stats = length_stats(LENGTHS, maxlen=35)
    assert stats["count"] == 5 and stats["mean"] == 40.0
    assert stats["min"] == 10 and stats["max"] == 100
    assert stats["p50"] == 30.0 and stats["p75"] == 40.0
    assert stats["p90"] == pytest.approx(76.0)  # 40 + 0.6 * (100 - 40)
    assert stats["p95"] == pytest.approx(88.0) and stats["p99"] == pytest.approx(97.6)
    assert stats["coverage"] == pytest.approx(0.6) and stats["truncated"] == pytest.approx(0.4)
    assert stats["suggested_maxlen"] == 80


def test_without_maxlen_and_boundaries():
    stats = length_stats(LENGTHS)
    assert stats["coverage"] is None and stats["truncated"] is None and stats["maxlen"] is None
    assert length_stats(LENGTHS, maxlen=40)["coverage"] == pytest.approx(0.8)  # <= maxlen is covered
    assert length_stats([0, 0, 1])["suggested_maxlen"] == 10
    assert length_stats(iter([7]))["p99"] == 7.0


@pytest.mark.parametrize("bad", [[], [1, -2], [[1, 2]], ["x"]])
def test_bad_lengths(bad):
    with pytest.raises(InvalidInputError):
        length_stats(bad)


def test_histogram_png_on_real_lengths(imdb_archive, tmp_path):
    texts, _ = imdb_reviews(imdb_archive, "train", 1000)
    lengths = [len(t) for t in Tokenizer().tokenize_many(texts)]
    stats = length_stats(lengths, maxlen=200)
    assert 150 < stats["p50"] < 250 and 0.4 < stats["coverage"] < 0.8  # IMDB: median ~175 words
    path = plot_length_histogram(lengths, tmp_path / "plots" / "lengths.png", maxlen=200, title="IMDB train")
    assert path == tmp_path / "plots" / "lengths.png"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert [p.name for p in path.parent.iterdir()] == ["lengths.png"]
    svg = plot_length_histogram(lengths, tmp_path / "lengths.svg")
    assert svg.read_text().lstrip().startswith("<?xml")
