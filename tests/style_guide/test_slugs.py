"""Heading slugs as MyST and GitHub compute them (expected values worked out
by hand from each algorithm, not by calling the code under test)."""

import pytest

from paddle_style_guide.slugs import github_slug, github_slugs, myst_slug, myst_slugs

CASES = [
    # title, MyST slug, GitHub slug
    ("2. 运行校准", "2-运行校准", "2-运行校准"),
    ("1. 标题2", "1-标题2", "1-标题2"),
    ("Run the calibration", "run-the-calibration", "run-the-calibration"),
    ("FP16 and BuilderFlag.FP16", "fp16-and-builderflagfp16", "fp16-and-builderflagfp16"),
    ("C++ & CUDA: what's new?", "c--cuda-whats-new", "c--cuda-whats-new"),
    ("Emoji 🚀 launch", "emoji--launch", "emoji--launch"),
    ("动态范围（dynamic range）", "动态范围dynamic-range", "动态范围dynamic-range"),
    ("snake_case_name", "snake_case_name", "snake_case_name"),
    ("Ünïcödé Straße", "ünïcödé-straße", "ünïcödé-straße"),
]


@pytest.mark.parametrize("title, myst, github", CASES)
def test_slug_of_one_heading(title, myst, github):
    assert myst_slug(title) == myst
    assert github_slug(title) == github


def test_github_keeps_combining_marks_which_myst_drops():
    # "é" written as "e" + U+0301: GitHub keeps marks (\p{M}), Python's \w does not.
    title = "Cafe\u0301"
    assert github_slug(title) == "cafe\u0301"
    assert myst_slug(title) == "cafe"


def test_duplicates_get_numbered_suffixes():
    titles = ["Overview", "Overview", "Overview-1", "Overview"]
    # MyST: unique against all slugs so far, base never changes.
    assert myst_slugs(titles) == ["overview", "overview-1", "overview-1-1", "overview-2"]
    # GitHub (github-slugger): counts per base slug, skips taken suffixes.
    assert github_slugs(titles) == ["overview", "overview-1", "overview-1-1", "overview-2"]
    assert github_slugs(["a-1", "a", "a"]) == ["a-1", "a", "a-2"]
    assert myst_slugs(["a-1", "a", "a"]) == ["a-1", "a", "a-2"]


def test_punctuation_only_heading_has_no_myst_anchor():
    assert myst_slugs(["???", "!!!"]) == ["", ""]  # no anchor, not "-1"
    assert myst_slug("🚀") == ""
