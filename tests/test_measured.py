"""The measured values that pages record with <!-- test: record=NAME -->."""

from pathlib import Path

import pytest

from docrunner.errors import PageSyntaxError
from docrunner.measured import (
    VERSIONS_FILE,
    Measurements,
    clean_output,
    versions_sentence,
)
from docrunner.parsing import Directive


@pytest.fixture
def measurements(tmp_path: Path) -> Measurements:
    return Measurements(tmp_path / "measured", "20.10.24", "2.26.1")


def test_clean_output_keeps_what_a_terminal_shows():
    output = "\x1b[32mreal\x1b[0m\t0m1.5s   \nstep 1/2\rstep 2/2\r\n\n\n"
    assert clean_output(output) == "real\t0m1.5s\nstep 2/2\n"


def test_passing_page_writes_its_values(measurements: Measurements):
    measurements.record("docs/a.md", "rebuild-time", "real\t0m1.5s\n")
    written = measurements.finish_page("docs/a.md", passed=True)
    path = measurements.folder / "rebuild-time.txt"
    assert written == [path]
    assert path.read_text() == "real\t0m1.5s\n"


def test_failing_page_writes_nothing(measurements: Measurements):
    measurements.record("docs/a.md", "rebuild-time", "real\t0m1.5s\n")
    assert measurements.finish_page("docs/a.md", passed=False) == []
    assert not (measurements.folder / "rebuild-time.txt").exists()


def test_last_output_under_one_name_wins(measurements: Measurements):
    measurements.record("docs/a.md", "size", "first")
    measurements.record("docs/a.md", "size", "second")
    measurements.finish_page("docs/a.md", passed=True)
    assert (measurements.folder / "size.txt").read_text() == "second\n"


def test_unchanged_value_is_not_rewritten(measurements: Measurements):
    measurements.record("docs/a.md", "size", "42MB")
    measurements.finish_page("docs/a.md", passed=True)
    measurements.record("docs/a.md", "size", "42MB")
    assert measurements.finish_page("docs/a.md", passed=True) == []


def test_values_of_other_pages_wait_for_their_page(measurements: Measurements):
    measurements.record("docs/a.md", "one", "1")
    measurements.record("docs/b.md", "two", "2")
    measurements.finish_page("docs/a.md", passed=True)
    assert not (measurements.folder / "two.txt").exists()


def test_run_of_passing_pages_writes_versions(measurements: Measurements):
    measurements.finish_page("docs/a.md", passed=True)
    path = measurements.finish_run()
    assert path == measurements.folder / VERSIONS_FILE
    assert path.read_text() == versions_sentence("20.10.24", "2.26.1")
    assert "Docker Engine 20.10.24 and Docker Compose 2.26.1." in path.read_text()


def test_run_with_failed_page_keeps_old_versions(measurements: Measurements):
    measurements.finish_page("docs/a.md", passed=True)
    measurements.finish_page("docs/b.md", passed=False)
    assert measurements.finish_run() is None
    assert not (measurements.folder / VERSIONS_FILE).exists()


def test_run_without_pages_writes_no_versions(measurements: Measurements):
    assert measurements.finish_run() is None


def test_record_directive_takes_a_name():
    assert Directive.parse("record=rebuild-time", "p.md", 3).record == "rebuild-time"


@pytest.mark.parametrize("name", ["", "Rebuild", "../escape", "two words", "end-"])
def test_record_directive_rejects_bad_name(name: str):
    with pytest.raises(PageSyntaxError, match="p.md:3: record= needs lower case"):
        Directive.parse(f"record='{name}'", "p.md", 3)
