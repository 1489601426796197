"""Raking, trimming, design effect and intervals (ingest/weighting.py) on cases with a known answer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from ingest import weighting
from ingest.weighting import ImpossibleMarginError, NotConvergedError, WeightingError

TOL = 1e-6  # the tolerance these tests hold raking to: |weighted share - target| <= 1e-6


def _sample_from_counts(counts: dict[tuple[str, ...], int], names: tuple[str, ...]) -> dict[str, list[str]]:
    sample: dict[str, list[str]] = {name: [] for name in names}
    for cell, count in counts.items():
        for _ in range(count):
            for name, value in zip(names, cell):
                sample[name].append(value)
    return sample


def _shares(sample, weights, variable):
    values = np.asarray(sample[variable], dtype=object)
    answered = values != None  # noqa: E711
    total = weights[answered].sum()
    return {c: weights[values == c].sum() / total for c in set(values[answered].tolist())}


def test_rank_one_sample_rakes_to_the_independence_table():
    """A sample whose cell counts are a product r_i·c_j rakes to weights R_i·C_j/(N·n_ij): known exactly."""
    row_counts, col_counts = {"16-34": 2, "35-64": 3, "65+": 5}, {"Female": 4, "Male": 1}
    counts = {(a, s): row_counts[a] * col_counts[s] for a, s in itertools.product(row_counts, col_counts)}
    population = {"age": {"16-34": 300.0, "35-64": 500.0, "65+": 200.0}, "sex": {"Female": 510.0, "Male": 490.0}}
    sample = _sample_from_counts(counts, ("age", "sex"))
    result = weighting.rake(sample, population, tol=TOL)
    n, total = len(sample["age"]), 1000.0
    expected = np.array([population["age"][a] * population["sex"][s] / total / counts[(a, s)]
                         for a, s in zip(sample["age"], sample["sex"])])
    expected *= n / expected.sum()  # weights have mean 1
    assert np.allclose(result.weights, expected, rtol=1e-5)
    assert result.max_margin_error <= TOL


def test_raking_meets_three_margins_within_the_tolerance_on_a_biased_sample():
    rng = np.random.default_rng(7)
    n = 600
    # online-like bias: older, whiter, more women than the population
    age = rng.choice(["16-34", "35-54", "55-64", "65+"], n, p=[0.12, 0.30, 0.25, 0.33])
    sex = rng.choice(["Female", "Male"], n, p=[0.62, 0.38])
    ethnic = rng.choice(["White", "Ethnic minority"], n, p=[0.95, 0.05])
    margins = {"age": {"16-34": 31_000, "35-54": 33_000, "55-64": 16_000, "65+": 20_000},
               "sex": {"Female": 51_000, "Male": 49_000},
               "ethnic_group": {"White": 82_000, "Ethnic minority": 18_000}}
    sample = {"age": age.tolist(), "sex": sex.tolist(), "ethnic_group": ethnic.tolist()}
    result = weighting.rake(sample, margins, tol=TOL)
    assert result.max_margin_error <= TOL
    for variable, margin in margins.items():
        total = sum(margin.values())
        for category, share in _shares(sample, result.weights, variable).items():
            assert abs(share - margin[category] / total) <= TOL, (variable, category)
    assert result.weights.mean() == pytest.approx(1.0)
    assert result.design_effect > 1.2  # a biased sample costs precision


def test_unanswered_items_keep_their_weight_and_the_margin_is_met_among_those_who_answered():
    sample = {"sex": ["Female", "Female", "Female", "Male", None, None],
              "age": ["16-34", "65+", "65+", "16-34", "65+", "16-34"]}
    margins = {"sex": {"Female": 50, "Male": 50}, "age": {"16-34": 50, "65+": 50}}
    result = weighting.rake(sample, margins, tol=TOL)
    shares = _shares(sample, result.weights, "sex")
    assert shares["Female"] == pytest.approx(0.5, abs=TOL)
    assert _shares(sample, result.weights, "age")["65+"] == pytest.approx(0.5, abs=TOL)


def test_an_empty_cell_is_a_clear_error_naming_district_variable_and_category():
    sample = {"age": ["16-34", "35-54", "35-54"], "sex": ["Female", "Male", "Female"]}
    margins = {"age": {"16-34": 10, "35-54": 10, "65+": 5}, "sex": {"Female": 12, "Male": 13}}
    with pytest.raises(ImpossibleMarginError) as refused:
        weighting.rake(sample, margins, district="E07000117")
    message = str(refused.value)
    assert "E07000117" in message and "age" in message and "'65+'" in message and "no respondent" in message
    assert (refused.value.district, refused.value.variable, refused.value.category) == ("E07000117", "age", "65+")


def test_a_respondent_in_a_category_without_population_is_a_clear_error():
    sample = {"sex": ["Female", "Male", "Other"]}
    with pytest.raises(ImpossibleMarginError, match=r"sex = 'Other'.*no such category"):
        weighting.rake(sample, {"sex": {"Female": 5, "Male": 5}}, district="E06000008")
    with pytest.raises(ImpossibleMarginError, match=r"sex = 'Other'.*population is zero"):
        weighting.rake(sample, {"sex": {"Female": 5, "Male": 5, "Other": 0}}, district="E06000008")


def test_raking_that_cannot_converge_in_the_iterations_allowed_says_so():
    rng = np.random.default_rng(3)
    sample = {"a": rng.choice(["x", "y"], 50).tolist(), "b": rng.choice(["p", "q"], 50).tolist()}
    with pytest.raises(NotConvergedError, match="did not converge in 1 sweeps"):
        weighting.rake(sample, {"a": {"x": 90, "y": 10}, "b": {"p": 10, "q": 90}}, tol=1e-12, max_iter=1)


def test_trimming_caps_weights_and_re_rakes_to_the_margins():
    # one young man among many older women: untrimmed he would carry a huge weight
    sample = {"age": ["16-34"] * 3 + ["65+"] * 47, "sex": ["Male", "Female", "Male"] + ["Female"] * 40 + ["Male"] * 7}
    margins = {"age": {"16-34": 40, "65+": 60}, "sex": {"Female": 50, "Male": 50}}
    untrimmed = weighting.rake(sample, margins)
    assert untrimmed.weights.max() > 5
    trimmed = weighting.rake_and_trim(sample, margins, cap=5.0)
    assert trimmed.weights.max() <= 5.0 + 1e-9
    assert trimmed.weights.mean() == pytest.approx(1.0)
    assert trimmed.trim_rounds >= 1 and trimmed.trimmed_count >= 1
    # the cap and these margins conflict (3 young respondents cannot stand for 40% at <= 5x): the error is reported
    assert trimmed.max_margin_error > 0.01
    assert trimmed.design_effect < untrimmed.design_effect


def test_trimming_meets_the_margins_when_the_cap_allows():
    rng = np.random.default_rng(11)
    sample = {"age": rng.choice(["16-34", "35-64", "65+"], 400, p=[0.08, 0.42, 0.5]).tolist(),
              "sex": rng.choice(["Female", "Male"], 400, p=[0.6, 0.4]).tolist()}
    margins = {"age": {"16-34": 30, "35-64": 45, "65+": 25}, "sex": {"Female": 51, "Male": 49}}
    result = weighting.rake_and_trim(sample, margins, cap=3.0, tol=TOL)
    assert result.weights.max() <= 3.0 + 1e-9
    assert result.max_margin_error <= TOL


def test_a_cap_of_one_or_less_is_refused():
    with pytest.raises(WeightingError, match="cap"):
        weighting.rake_and_trim({"sex": ["Female", "Male"]}, {"sex": {"Female": 1, "Male": 1}}, cap=1.0)


def test_kish_design_effect_and_effective_n_by_hand():
    weights = [1, 1, 2, 4]  # n = 4, sum = 8, sum of squares = 22
    assert weighting.kish_design_effect(weights) == pytest.approx(4 * 22 / 64)  # 1.375
    cv2 = np.var(weights) / np.mean(weights) ** 2
    assert weighting.kish_design_effect(weights) == pytest.approx(1 + cv2)
    assert weighting.effective_sample_size(weights) == pytest.approx(64 / 22)  # 2.909
    assert weighting.kish_design_effect([2.5] * 10) == pytest.approx(1.0)


def test_weighted_share_by_hand():
    # weights 0.5, 1.5, 2, 1; the first and third chose: (0.5 + 2) / 5 = 0.5
    assert weighting.weighted_share([0.5, 1.5, 2, 1], [True, False, True, False]) == pytest.approx(0.5)
    assert weighting.weighted_share([0.5, 1.5, 2, 1], [False, True, True, False]) == pytest.approx(0.7)


def test_wilson_interval_by_hand():
    low, high = weighting.wilson_interval(0.5, 100)  # the textbook 50 of 100: 40.4% to 59.6%
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    low, high = weighting.wilson_interval(0.0, 20)  # Wilson stays inside [0, 1] and is not zero-width
    assert low == 0.0 and 0.15 < high < 0.17
    assert weighting.wilson_interval(0.3, 0) == (0.0, 1.0)
    # a smaller effective n gives a wider interval
    assert math.fsum(weighting.wilson_interval(0.3, 50)) != 0
    wide = weighting.wilson_interval(0.3, 50)
    narrow = weighting.wilson_interval(0.3, 500)
    assert wide[1] - wide[0] > narrow[1] - narrow[0]


def test_weight_districts_gives_mean_one_weights_and_expansion_weights_per_district():
    respondents = pd.DataFrame({
        "lad_code": ["A"] * 4 + ["B"] * 4,
        "sex": ["Female", "Female", "Female", "Male", "Female", "Male", "Male", "Male"],
    })
    margins = pd.DataFrame({
        "lad_code": ["A", "A", "B", "B"], "variable": ["sex"] * 4, "category": ["Female", "Male"] * 2,
        "population_count": [500, 500, 300, 100],
    })
    weighted, diagnostics = weighting.weight_districts(respondents, margins, variables=["sex"])
    a = weighted[weighted.lad_code == "A"]
    assert a.weight.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])
    assert a.expansion_weight.sum() == pytest.approx(1000)
    b = weighted[weighted.lad_code == "B"]
    assert b.weight.tolist() == pytest.approx([3.0, 1 / 3, 1 / 3, 1 / 3])
    assert b.expansion_weight.sum() == pytest.approx(400)
    by_district = {d.district: d for d in diagnostics}
    assert by_district["A"].design_effect == pytest.approx(4 * (3 * 4 / 9 + 4) / 16)
    assert by_district["B"].effective_sample_size == pytest.approx(16 / (9 + 3 / 9))


def test_weight_districts_refuses_a_district_without_margins():
    respondents = pd.DataFrame({"lad_code": ["Z"], "sex": ["Female"]})
    margins = pd.DataFrame({"lad_code": ["A"], "variable": ["sex"], "category": ["Female"], "population_count": [1]})
    with pytest.raises(WeightingError, match="district Z: respondents but no census margins"):
        weighting.weight_districts(respondents, margins, variables=["sex"])
