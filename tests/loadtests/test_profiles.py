"""SLO profiles: the shipped ones follow DESIGN.md §4; bad names and files get one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.errors import ProfileFileError, UnknownProfileError
from loadtests.profiles import DEFAULT_PROFILES, get_profile, load_profiles


def test_shipped_profiles_carry_the_seed_targets() -> None:
    profiles = load_profiles().profiles
    assert set(profiles) == {"laptop", "staging", "production"}
    prod = profiles["production"]
    assert prod.availability == 0.99999
    assert profiles["staging"].availability == 0.999
    targets = {name: t.p99_ms for name, t in prod.journeys.items()}
    assert targets == {
        "authentication": 25,
        "message_delivery": 50,
        "ai_inference": 1500,
        "login": None,
        "time_to_complete": None,
        "search": 100,
        "file_operations": 200,
    }
    # No seed latency target, but their errors count (a refused login, a reply that never ended).
    assert prod.journeys["login"].judge_errors
    assert prod.journeys["time_to_complete"].judge_errors


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(UnknownProfileError) as caught:
        get_profile("moon")
    assert caught.value.hint == "choose one of: laptop, production, staging"


def test_an_edited_copy_is_used(tmp_path: Path) -> None:
    copy = tmp_path / "mine.yaml"
    copy.write_text(DEFAULT_PROFILES.read_text().replace("p99_ms: 1500", "p99_ms: 3000"))
    assert get_profile("laptop", copy).journeys["ai_inference"].p99_ms == 3000


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("profiles: [", "not valid YAML"),
        ("profiles: {x: {availability: 2, journeys: {}}}", "availability"),
        (
            "profiles: {x: {availability: 0.9, journeys: {teleport: {p99_ms: 1}}}}",
            "unknown journeys",
        ),
        ("profiles: {x: {availability: 0.9, journeys: {search: {p99_ms: -1}}}}", "p99_ms"),
    ],
)
def test_bad_files_are_explained(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ProfileFileError, match=match):
        load_profiles(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileFileError, match="cannot read"):
        load_profiles(tmp_path / "nope.yaml")
