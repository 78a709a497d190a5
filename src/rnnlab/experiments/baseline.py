"""A linear text baseline on exactly the runs' data: TF-IDF word 1-2 grams + logistic regression.

A recurrent model is only interesting if it beats a bag of n-grams trained on the same
texts; the baseline is trained on the runs' training split and scored on their test examples.
"""

from __future__ import annotations

import time

from rnnlab.experiments.datasets import SplitTexts

BASELINE_SETTINGS = {
    "vectorizer": "TF-IDF of word 1-2 grams (scikit-learn TfidfVectorizer, ngram_range=(1, 2), "
                "sublinear_tf=True, min_df=2, or 1 below 200 training texts)",
    "classifier": "LogisticRegression(C=1.0, max_iter=1000)",
}


def tfidf_baseline(split: SplitTexts) -> dict:
    """Fit the baseline on `split.train_texts`, score it on `split.test_texts`.

    Returns a dict with `accuracy`, `confusion_matrix`, `train_examples`, `test_examples`,
    `n_features`, `seconds` and the settings used.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from rnnlab.evaluate import classification_metrics

    started = time.perf_counter()
    # min_df=2 on tiny subsets could leave no feature at all; fall back to every n-gram.
    min_df = 2 if len(split.train_texts) >= 200 else 1
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True),
        LogisticRegression(C=1.0, max_iter=1000),
    )
    pipeline.fit(split.train_texts, split.train_labels)
    probabilities = pipeline.predict_proba(split.test_texts)
    metrics = classification_metrics(split.test_labels, probabilities, split.class_names)
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "confusion_matrix": metrics["confusion_matrix"],
        "class_names": metrics["class_names"],
        "train_examples": len(split.train_texts),
        "test_examples": len(split.test_texts),
        "n_features": int(len(pipeline[0].vocabulary_)),
        "min_df": min_df,
        "seconds": round(time.perf_counter() - started, 2),
        **BASELINE_SETTINGS,
    }
