"""`rnnlab embeddings train | coverage`: pre-trained word vectors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json
from rnnlab.data import load_imdb
from rnnlab.errors import InvalidInputError
from rnnlab.text import Preprocessor
from rnnlab.text.vectors import detect_format, load_embedding_matrix
from rnnlab.text.word2vec import locate_vectors, train_word2vec, word2vec_path

app = typer.Typer(help="Pre-trained word vectors: train word2vec on IMDB, check coverage.", no_args_is_help=True)


@app.command("train")
def embeddings_train(
    dim: Annotated[int, typer.Option(min=1, help="Vector size.")] = 100,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the reviews.")] = 5,
    min_count: Annotated[int, typer.Option(min=1, help="Words seen fewer times get no vector.")] = 2,
    window: Annotated[int, typer.Option(min=1, help="Context words on each side.")] = 5,
    skip_gram: Annotated[bool, typer.Option("--skip-gram", help="Skip-gram instead of CBOW.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Training threads. 1 (default) gives the same vectors in every "
                                               "run; more are faster but vary run to run.")] = 1,
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Train on a sample of N reviews (quick look).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also copy the vectors file here.")] = None,
    as_json: JsonFlag = False,
):
    """Train word2vec on the IMDB train + unsup reviews; the same options reuse the cached vectors."""
    import time

    options = dict(dim=dim, window=window, min_count=min_count, epochs=epochs, seed=seed, limit=limit, sg=skip_gram)
    cached = word2vec_path(**options, deterministic=workers == 1).is_file()
    started = time.perf_counter()
    path = train_word2vec(workers=workers, out=out, **options)
    seconds = time.perf_counter() - started
    found = detect_format(path)
    result = {"path": str(path), "words": found.count, "dim": found.dim, "seconds": round(seconds, 2),
              "cached": cached, "out": str(out) if out is not None else None}
    if as_json:
        return print_json(result)
    how = "found in the cache" if cached else f"trained in {seconds:.1f} s"
    console.print(f"{found.count:,} words of dimension {found.dim}, {how}:", highlight=False)
    sys.stdout.write(f"{path}\n")
    if out is not None:
        console.print(f"copied to {out}", highlight=False)


@app.command("coverage")
def embeddings_coverage(
    vectors: Annotated[str, typer.Argument(help="GloVe or word2vec vectors file (text or binary), or word2vec-imdb.")],
    vocab_size: Annotated[int, typer.Option(min=0, help="Vocabulary ids, padding and OOV included; 0: every word.")] = 8000,
    dim: Annotated[int, typer.Option(min=1, help="Vector size of word2vec-imdb (trained if missing).")] = 100,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Fit the vocabulary on N training reviews.")] = None,
    as_json: JsonFlag = False,
):
    """How much of the IMDB training vocabulary, and of its tokens, a vectors file covers."""

    if vocab_size < 0:
        raise InvalidInputError(f"--vocab-size must be 0 (every word) or positive, got {vocab_size}.")
    path = locate_vectors(vectors, dim)  # before the slow part: a wrong path fails at once
    reviews = load_imdb("train")
    if limit:
        reviews = reviews.sample(limit)
    vocabulary = Preprocessor(vocab_size=vocab_size or None).fit(reviews.texts).vocabulary
    _, coverage = load_embedding_matrix(path, vocabulary)
    result = {**coverage.to_dict(), "vocab_size": vocab_size or None, "reviews": len(reviews)}
    if as_json:
        return print_json(result)
    table = Table(title=f"{path.name} on the IMDB training vocabulary ({len(reviews):,} reviews, 'keras' tokens)")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("format", f"{coverage.format}, dimension {coverage.dim}")
    table.add_row("vocabulary words with a vector",
                  f"{coverage.words_found:,} of {coverage.words:,} ({100 * coverage.word_share:.2f}%)")
    if coverage.tokens:
        table.add_row("training tokens covered",
                      f"{coverage.tokens_found:,} of {coverage.tokens:,} ({100 * coverage.token_share:.2f}%)")
    console.print(table)
    if coverage.missing:
        console.print("most frequent words without a vector: " + ", ".join(coverage.missing), highlight=False)
