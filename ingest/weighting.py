"""Survey weighting: raking (iterative proportional fitting) to population margins, trimming,
Kish design effect and effective sample size, and the Wilson interval for a weighted share.

A small numpy implementation rather than a library: the method is a few lines, the errors must
name the district, variable and category an analyst has to look at, and every step is tested
(``tests/unit/test_weighting.py``) against cases with a known answer.

Method, per district:

* **Raking.** Start from equal weights. For each weighting variable in turn, scale the weights of
  each category so the weighted share of the category equals its population share; repeat over the
  variables until no category's weighted share is more than ``tol`` (absolute, in share points)
  from its target, or fail after ``max_iter`` sweeps. A respondent who did not answer a variable
  ("Prefer not to say", ``None``) keeps their weight in that variable's step, and the variable's
  targets are met among those who answered: nobody is dropped for one missing answer.
* **Impossible margins.** A category with population but no respondents cannot be met by any
  weights, and a respondent whose category has no population would need weight zero: both are
  refused with :class:`ImpossibleMarginError` naming the district, variable and category. Collapse
  the category (seed ``consultation_weighting_categories``) or add respondents.
* **Trimming.** Weights are scaled to mean 1 in the district, capped at ``cap`` (5 by default:
  five times the district mean), and raked again; capping and raking alternate until both hold
  (the cap is met exactly; the margins within ``tol``) or ``max_trim_rounds`` is reached, when the
  margin error left is reported rather than hidden. A cap trades a little bias for variance: one
  respondent standing for twenty would make a district's estimate that person's opinion.
* **Design effect.** Kish's approximation for unequal weights, ``deff = 1 + CV²`` (CV the
  coefficient of variation of the weights, population variance), equivalently
  ``n · Σw² / (Σw)²``; effective sample size ``n_eff = n / deff = (Σw)² / Σw²``.
* **Intervals.** The Wilson score interval for a proportion, with the weighted share and the
  effective sample size in place of the unweighted share and ``n``.

Only numpy is imported (pandas is imported only by :func:`weight_districts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TOLERANCE = 1e-6  # absolute, in share points (0.000001 = 0.0001 percentage points)
DEFAULT_MAX_ITERATIONS = 200
DEFAULT_TRIM_CAP = 5.0  # times the district's mean weight
DEFAULT_MAX_TRIM_ROUNDS = 50
CAP_SLACK = 1e-6  # relative: a weight this close to the cap counts as capped
Z_95 = 1.959963984540054  # two-sided 95%: the 97.5th percentile of the standard normal


class WeightingError(ValueError):
    """Weights could not be computed; the message says for which district and why."""


class ImpossibleMarginError(WeightingError):
    """A margin cannot be met: a category with population and no respondents, or the reverse."""

    def __init__(self, district: str, variable: str, category: str, reason: str):
        self.district, self.variable, self.category = district, variable, category
        super().__init__(
            f"district {district}: cannot weight {variable} = {category!r}: {reason}. Collapse the category "
            "into a neighbouring one (seed consultation_weighting_categories) or add respondents to it."
        )


class NotConvergedError(WeightingError):
    """Raking did not meet the margins within the tolerance in the iterations allowed."""


@dataclass(frozen=True)
class RakeResult:
    """Weights (mean 1 over the respondents) and how well they meet the margins."""

    weights: np.ndarray
    iterations: int  # raking sweeps over all variables (summed over trimming rounds)
    max_margin_error: float  # largest |weighted share - target share| over every variable and category
    trimmed_count: int = 0  # respondents whose weight the cap held down in the last round
    trim_rounds: int = 0
    cap: float | None = None

    @property
    def design_effect(self) -> float:
        return kish_design_effect(self.weights)

    @property
    def effective_sample_size(self) -> float:
        return effective_sample_size(self.weights)


def _target_shares(district: str, variable: str, margin: Mapping[str, float]) -> dict[str, float]:
    if not margin:
        raise WeightingError(f"district {district}: no population margin for {variable}")
    negative = [c for c, v in margin.items() if v is None or not math.isfinite(float(v)) or float(v) < 0]
    if negative:
        raise WeightingError(f"district {district}: {variable} margin has negative or missing values for {negative}")
    total = float(sum(float(v) for v in margin.values()))
    if total <= 0:
        raise WeightingError(f"district {district}: {variable} margin adds up to zero")
    return {str(c): float(v) / total for c, v in margin.items()}


def _check_cells(district: str, variable: str, values: np.ndarray, targets: Mapping[str, float]) -> None:
    answered = values[values != None]  # noqa: E711 - object array: elementwise comparison with None
    present = set(answered.tolist())
    for category, share in targets.items():
        if share > 0 and category not in present:
            raise ImpossibleMarginError(
                district, variable, category,
                f"the population has {share:.1%} in it but no respondent is in it (an empty cell)",
            )
    for category in sorted(present - set(targets)):
        raise ImpossibleMarginError(district, variable, category,
                                    "respondents are in it but the population margin has no such category")
    for category in sorted(present):
        if targets[category] == 0:
            raise ImpossibleMarginError(district, variable, category,
                                        "respondents are in it but its population is zero")
    if answered.size == 0:
        raise ImpossibleMarginError(district, variable, "(any)", "no respondent answered it")


def _rake_once(
    columns: Mapping[str, np.ndarray],
    targets: Mapping[str, Mapping[str, float]],
    weights: np.ndarray,
    tol: float,
    max_iter: int,
    district: str,
) -> tuple[np.ndarray, int, float]:
    masks = {v: {c: columns[v] == c for c in targets[v]} for v in targets}
    w = weights.astype(float).copy()
    error = math.inf
    for sweep in range(1, max_iter + 1):
        for variable, categories in masks.items():
            answered = columns[variable] != None  # noqa: E711
            total = w[answered].sum()
            for category, mask in categories.items():
                current = w[mask].sum()
                if current > 0:
                    w[mask] *= targets[variable][category] * total / current
        error = max_margin_error(columns, targets, w)
        if error <= tol:
            return w, sweep, error
    raise NotConvergedError(
        f"district {district}: raking did not converge in {max_iter} sweeps (largest margin error "
        f"{error:.2e} > tolerance {tol:.0e}); the margins may contradict each other for this sample "
        "(e.g. a category held by only one respondent in each variable). Collapse small categories."
    )


def max_margin_error(
    columns: Mapping[str, np.ndarray], targets: Mapping[str, Mapping[str, float]], weights: np.ndarray
) -> float:
    """Largest |weighted share − target share| over every variable and category (among those who answered)."""
    worst = 0.0
    for variable, shares in targets.items():
        answered = columns[variable] != None  # noqa: E711
        total = weights[answered].sum()
        for category, share in shares.items():
            achieved = weights[columns[variable] == category].sum() / total if total > 0 else 0.0
            worst = max(worst, abs(achieved - share))
    return float(worst)


def rake(
    sample: Mapping[str, Sequence[Any]],
    margins: Mapping[str, Mapping[str, float]],
    tol: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITERATIONS,
    *,
    district: str = "(all)",
    base_weights: Sequence[float] | None = None,
) -> RakeResult:
    """Rake to ``margins`` (variable → category → population count or share); weights have mean 1.

    ``sample`` maps each variable to the respondents' categories (``None`` = not answered), all of
    the same length. Raises :class:`ImpossibleMarginError` for an empty cell or a category without
    population, :class:`NotConvergedError` if the margins are not met within ``tol`` in ``max_iter``.
    """
    missing = [v for v in margins if v not in sample]
    if missing:
        raise WeightingError(f"district {district}: the sample has no column for {missing}")
    columns = {v: np.asarray([None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
                              for x in sample[v]], dtype=object) for v in margins}
    sizes = {len(c) for c in columns.values()}
    if len(sizes) > 1:
        raise WeightingError(f"district {district}: the sample's columns differ in length {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    if n == 0:
        raise WeightingError(f"district {district}: no respondents to weight")
    targets = {v: _target_shares(district, v, m) for v, m in margins.items()}
    for variable, shares in targets.items():
        _check_cells(district, variable, columns[variable], shares)
    start = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float)
    if start.shape != (n,) or (start <= 0).any():
        raise WeightingError(f"district {district}: base weights must be {n} positive numbers")
    w, sweeps, error = _rake_once(columns, targets, start, tol, max_iter, district)
    return RakeResult(weights=w * n / w.sum(), iterations=sweeps, max_margin_error=error)


def rake_and_trim(
    sample: Mapping[str, Sequence[Any]],
    margins: Mapping[str, Mapping[str, float]],
    cap: float = DEFAULT_TRIM_CAP,
    tol: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITERATIONS,
    max_trim_rounds: int = DEFAULT_MAX_TRIM_ROUNDS,
    *,
    district: str = "(all)",
) -> RakeResult:
    """Rake, then cap weights at ``cap`` × the mean and rake again, until both hold (see module notes).

    The weights returned always respect the cap; ``max_margin_error`` says how far the margins are
    from their targets after the last round (within ``tol`` unless the cap and the margins conflict).
    """
    if cap <= 1:
        raise WeightingError(f"trimming cap {cap} must be above 1 (a multiple of the mean weight)")
    result = rake(sample, margins, tol, max_iter, district=district)
    w, sweeps = result.weights, result.iterations
    columns = {v: np.asarray([None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
                              for x in sample[v]], dtype=object) for v in margins}
    targets = {v: _target_shares(district, v, m) for v, m in margins.items()}
    n = len(w)
    rounds = trimmed = 0
    error = result.max_margin_error
    while w.max() > cap * (1 + CAP_SLACK) and rounds < max_trim_rounds:
        rounds += 1
        w = np.minimum(w, cap)
        try:
            w, more, error = _rake_once(columns, targets, w, tol, max_iter, district)
            sweeps += more
        except NotConvergedError:
            pass
        w = w * n / w.sum()
    if w.max() > cap * (1 + CAP_SLACK):
        # the cap and the margins conflict: keep the cap (the documented promise), report the error
        for _ in range(100):
            if w.max() <= cap * (1 + CAP_SLACK):
                break
            w = np.minimum(w, cap)
            w = w * n / w.sum()
    if rounds:
        w = np.minimum(w, cap)  # at most a rounding step above the cap is left: clip it
    error = max_margin_error(columns, targets, w)
    trimmed = int(np.isclose(w, cap, rtol=1e-6).sum()) if rounds else 0
    return RakeResult(weights=w, iterations=sweeps, max_margin_error=error, trimmed_count=trimmed,
                      trim_rounds=rounds, cap=cap)


def kish_design_effect(weights: Sequence[float]) -> float:
    """Kish's design effect due to unequal weights: 1 + CV² = n·Σw²/(Σw)²."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or w.sum() <= 0:
        raise WeightingError("design effect of no weights")
    return float(w.size * np.square(w).sum() / w.sum() ** 2)


def effective_sample_size(weights: Sequence[float]) -> float:
    """n / deff = (Σw)²/Σw²: the size of a simple random sample with the same precision."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or w.sum() <= 0:
        return 0.0
    return float(w.sum() ** 2 / np.square(w).sum())


def weighted_share(weights: Sequence[float], chosen: Sequence[bool]) -> float:
    """Σw over respondents who chose / Σw over all respondents."""
    w = np.asarray(weights, dtype=float)
    return float(w[np.asarray(chosen, dtype=bool)].sum() / w.sum())


def wilson_interval(share: float, n_eff: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``share`` observed on ``n_eff`` (effective) respondents."""
    if n_eff <= 0:
        return 0.0, 1.0
    denominator = 1 + z * z / n_eff
    centre = (share + z * z / (2 * n_eff)) / denominator
    half = z * math.sqrt(share * (1 - share) / n_eff + z * z / (4 * n_eff * n_eff)) / denominator
    # the interval always holds the share: min/max only absorb rounding at 0 and 1
    return min(share, max(0.0, centre - half)), max(share, min(1.0, centre + half))


@dataclass
class DistrictWeights:
    """Diagnostics for one district's weights (one row of ``fct_consultation_weighting``)."""

    district: str
    respondent_count: int
    iterations: int
    max_margin_error: float
    trim_rounds: int
    trimmed_count: int
    cap: float
    max_weight: float
    design_effect: float
    effective_sample_size: float
    details: dict[str, Any] = field(default_factory=dict)


def weight_districts(
    respondents: "pd.DataFrame",
    margins: "pd.DataFrame",
    *,
    variables: Sequence[str],
    district_column: str = "lad_code",
    cap: float = DEFAULT_TRIM_CAP,
    tol: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITERATIONS,
) -> tuple["pd.DataFrame", list[DistrictWeights]]:
    """Rake and trim each district's respondents to its margins.

    ``respondents``: one row per respondent with ``district_column`` and one column per variable.
    ``margins``: rows of (``district_column``, ``variable``, ``category``, ``population_count``).
    Returns ``respondents`` with ``weight`` (mean 1 in the district) and ``expansion_weight``
    (summing to the district's population in the margins, for estimates across districts), and the
    per-district diagnostics.
    """
    import pandas as pd

    out = respondents.copy()
    out["weight"] = np.nan
    out["expansion_weight"] = np.nan
    diagnostics: list[DistrictWeights] = []
    for district, rows in out.groupby(district_column, sort=True):
        wanted = margins[margins[district_column] == district]
        if wanted.empty:
            raise WeightingError(f"district {district}: respondents but no census margins; is it a district of "
                                 "the force area with population loaded?")
        district_margins = {
            v: dict(zip(wanted.loc[wanted["variable"] == v, "category"],
                        wanted.loc[wanted["variable"] == v, "population_count"].astype(float)))
            for v in variables
        }
        sample = {v: [None if pd.isna(x) else x for x in rows[v]] for v in variables}
        result = rake_and_trim(sample, district_margins, cap, tol, max_iter, district=str(district))
        # the adult population the margins describe (every variable's margin has the same base up to
        # the census/estimate difference documented in the margins model): the age margin's total
        population = float(sum(district_margins[variables[0]].values()))
        out.loc[rows.index, "weight"] = result.weights
        out.loc[rows.index, "expansion_weight"] = result.weights * population / len(rows)
        diagnostics.append(DistrictWeights(
            district=str(district), respondent_count=len(rows), iterations=result.iterations,
            max_margin_error=result.max_margin_error, trim_rounds=result.trim_rounds,
            trimmed_count=result.trimmed_count, cap=cap, max_weight=float(result.weights.max()),
            design_effect=result.design_effect, effective_sample_size=result.effective_sample_size,
        ))
    return out, diagnostics
