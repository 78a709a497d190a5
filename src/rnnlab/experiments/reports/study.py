"""The custom recurrent arrangements study: its three questions and the claims it makes.

Each question is a set of model pairs that differ in one design choice only; a difference
table reads "right minus left". The study's claims are checked against our intervals, a
pair counting as "yes" only when its 95% interval excludes 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.experiments.reports.stats import Comparison, compare


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    row: str
    column: str


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    left_label: str
    right_label: str
    pairs: tuple[Pair, ...]
    claim: str
    claimed: int
    direction: str | None = None  # the verdict the claim counts; None counts any difference


def _pairs(rows, columns, left, right) -> tuple[Pair, ...]:
    return tuple(Pair(left(r, c), right(r, c), label, c) for r, label in rows for c in columns)


QUESTIONS = (
    Question(
        "Q1", "Does the output type matter? (return_sequences False: last state, RSF; True: average of all "
        "states, RST)", "RSF", "RST",
        _pairs((("SS", "1 layer"), ("MS", "2 stacked"), ("MSbi", "bidirectional")), ("LSTM", "GRU"),
               lambda r, c: f"{r[:2]}_RSF_{'bi' if r.endswith('bi') else ''}{c}",
               lambda r, c: f"{r[:2]}_RST_{'bi' if r.endswith('bi') else ''}{c}"),
        "the output type matters in 4 of 6 pairs", 4),
    Question(
        "Q2", "Does stacking matter? (one layer, SS, vs two stacked layers, MS)", "SS", "MS",
        _pairs((("RSF", "RSF"), ("RST", "RST")), ("LSTM", "GRU"),
               lambda r, c: f"SS_{r}_{c}", lambda r, c: f"MS_{r}_{c}"),
        "stacking matters in 4 of 4 pairs", 4),
    Question(
        "Q3", "Bidirectional or stacked? (one Bidirectional layer, MS_*_bi*, vs two stacked layers, MS_*)",
        "bidirectional", "stacked",
        _pairs((("RSF", "RSF"), ("RST", "RST")), ("LSTM", "GRU"),
               lambda r, c: f"MS_{r}_bi{c}", lambda r, c: f"MS_{r}_{c}"),
        "stacked is better than bidirectional in 3 of 4 pairs", 3, direction="right better"),
)
BEST_CLAIM = ("MS_RST_LSTM", "MS_RSF_LSTM", 0.03)


@dataclass
class Answer:
    question: Question
    comparisons: list[tuple[Pair, Comparison]]

    @property
    def usable(self) -> list[tuple[Pair, Comparison]]:
        return [(p, c) for p, c in self.comparisons if c.verdict != "too few runs"]

    def count(self, verdict: str | None = None) -> int:
        return sum(c.verdict == verdict if verdict else c.distinguishable for _, c in self.usable)

    def verdict(self) -> str:
        """The question's answer in plain language."""
        q = self.question
        n, total = len(self.usable), len(q.pairs)
        if n == 0:
            return f"{q.key}: no pair has enough finished runs to answer."
        right, left = self.count("right better"), self.count("left better")
        undecided = n - right - left
        parts = []
        if right:
            parts.append(f"{q.right_label} better in {right} ({_names(self, 'right better')})")
        if left:
            parts.append(f"{q.left_label} better in {left} ({_names(self, 'left better')})")
        decided = "; ".join(parts) if parts else "no pair shows a difference"
        missing = f" {total - n} of {total} pairs lack runs." if n < total else ""
        return (f"{q.key}: {decided}; {undecided} of {n} pairs not distinguishable "
                f"(the 95% interval covers 0).{missing}")

    def claim_check(self) -> dict:
        q = self.question
        found = self.count(q.direction)
        n = len(self.usable)
        if n < len(q.pairs):
            status = "cannot be checked"
            detail = f"only {n} of {len(q.pairs)} pairs have enough runs"
        else:
            status = "holds" if found >= q.claimed else "does not hold"
            detail = f"we find {found} of {n}"
        return {"question": q.key, "claim": q.claim, "ours": f"{found} of {n}", "status": status, "detail": detail}


def _names(answer: Answer, verdict: str) -> str:
    return ", ".join(f"{p.row} {p.column}" for p, c in answer.usable if c.verdict == verdict)


def answer_questions(accuracies: dict[str, dict[int, float]], **options) -> list[Answer]:
    """Answer each question whose pairs the experiment holds (at least one pair)."""
    answers = []
    for question in QUESTIONS:
        present = [p for p in question.pairs if p.left in accuracies and p.right in accuracies]
        if present:
            answers.append(Answer(question, [(p, compare(p.left, accuracies[p.left], p.right, accuracies[p.right],
                                                         **options)) for p in question.pairs
                                             if p in present]))
    return answers


def best_claim(accuracies: dict[str, dict[int, float]], **options) -> dict | None:
    """Check "MS_RST_LSTM is best, more than 3 points over MS_RSF_LSTM" (None if not applicable)."""
    best, other, margin = BEST_CLAIM
    if best not in accuracies or other not in accuracies:
        return None
    comparison = compare(other, accuracies[other], best, accuracies[best], **options)
    means = {m: sum(r.values()) / len(r) for m, r in accuracies.items() if r}
    if comparison.verdict == "too few runs" or not means:
        return {"claim": f"{best} is the best model, more than {100 * margin:.0f} points above {other}",
                "ours": "too few runs", "status": "cannot be checked", "detail": "", "comparison": comparison.to_dict()}
    top_mean = max(means.values())
    leaders = [m for m, v in means.items() if v == top_mean]
    top = leaders[0] if len(leaders) == 1 else f"a tie of {len(leaders)} models"
    is_best, over = leaders == [best], comparison.mean_difference > margin
    status = "holds" if is_best and over else "does not hold"
    detail = (f"best mean: {top} ({100 * top_mean:.2f}%); {best} minus {other}: "
              f"{100 * comparison.mean_difference:+.2f} points (95% CI {100 * comparison.ci_low:+.2f} to "
              f"{100 * comparison.ci_high:+.2f})")
    if status == "holds" and comparison.ci_low <= margin:
        detail += f"; the interval reaches below {100 * margin:.0f} points, so the margin is not certain"
    return {"claim": f"{best} is the best model, more than {100 * margin:.0f} points above {other}",
            "ours": f"best: {top}, margin {100 * comparison.mean_difference:+.2f}", "status": status,
            "detail": detail, "comparison": comparison.to_dict()}
