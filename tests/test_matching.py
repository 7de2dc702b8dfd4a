"""Output comparison: wildcards, normalization and update mode's alignment."""

import pytest

from docrunner.matching import diff, matches, normalize, updated_expectation


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("hello", "hello\n"),
        ("...", "any\nlines"),
        ("...", ""),
        ("a\n...\nd", "a\nb\nc\nd"),
        ("a\n...\nd", "a\nd"),
        ("id ... end", "id 42 end"),
        ("trailing", "trailing   \n\n"),
        ("coloured", "\x1b[31mcoloured\x1b[0m"),
        ("done", "10%\r50%\rdone"),
        ("container 4b7ce07abcde", "container 0123456789ab"),
        ("Up 3 seconds", "Up About a minute"),
        ("at 2026-01-01T00:00:00Z", "at 2026-12-04T15:30:12.123456789Z"),
        ("Status: ok", "0123456789ab: Pull complete\nStatus: ok"),
    ],
)
def test_output_matches(expected, actual):
    assert matches(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("hello", "hello\nworld"),
        ("a\n...\nd", "a\nb"),
        ("id ... end", "id 42\nend"),
        ("", "unexpected"),
        ("x...", "y"),
    ],
)
def test_output_differs(expected, actual):
    assert not matches(expected, actual)


def test_diff_names_the_expected_lines():
    text = diff("hello", "goodbye", "page.md:4")
    assert text.splitlines() == [
        "--- expected (page.md:4)",
        "+++ actual",
        "@@ -1 +1 @@",
        "-hello",
        "+goodbye",
    ]


def test_normalize_drops_layer_progress():
    assert normalize("0123456789ab: Waiting\nStatus: done\n\n") == ["Status: done"]


@pytest.mark.parametrize(
    ("expected", "actual", "updated"),
    [
        ("hello", "hello\nworld", ["hello", "world"]),
        (
            "Untagged: x\nDeleted: sha256:...\n...",
            "Untagged: y\nDeleted: sha256:ab\nDeleted: sha256:cd",
            ["Untagged: y", "Deleted: sha256:...", "..."],
        ),
        ("id ...\nend", "id 7\nnew\nend", ["id ...", "new", "end"]),
        ("gone", "", []),
        ("", "new", ["new"]),
    ],
)
def test_update_keeps_matching_lines(expected, actual, updated):
    assert updated_expectation(expected, actual) == updated
    assert matches("\n".join(updated), actual)
