"""The access file: users and identity-provider groups resolved to roles and a region scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.access import (
    Access,
    AccessFileError,
    access_file_path,
    load_access,
    local_access,
    parse_access,
    scoped,
)
from capwatch.analytics.filters import Filters

POLICY = """
contact = "capwatch-admins@example.nhs.uk"

[users]
"Jane.Doe@Example.NHS.uk" = ["national", "analyst"]
"sam@example.nhs.uk" = ["region:London", "region:south east"]
"ana@example.nhs.uk" = ["analyst"]
"rita@example.nhs.uk" = "region:North West"

[groups]
"capwatch-midlands" = ["region:Midlands"]
"capwatch-analysts" = ["analyst"]
"CAPWATCH-National" = ["national"]
"""


@pytest.fixture(scope="module")
def policy():
    return parse_access(POLICY, "test.toml")


def test_national_analyst_by_email_case_insensitive(policy) -> None:
    access = policy.resolve("jane.doe@example.nhs.uk")
    assert access == Access("jane.doe@example.nhs.uk", True, None, True)
    assert access.filters_scope() is None
    assert access.may_use_sql and access.may_view_audit


def test_regional_user_gets_their_regions_in_canonical_spelling(policy) -> None:
    access = policy.resolve("SAM@example.nhs.uk")
    assert access is not None
    assert not access.is_national and not access.is_analyst
    assert set(access.filters_scope() or ()) == {"London", "South East"}
    assert not access.may_use_sql and not access.may_view_audit


def test_a_single_role_may_be_written_as_text(policy) -> None:
    access = policy.resolve("rita@example.nhs.uk")
    assert access is not None and access.regions == ("North West",)


def test_roles_from_groups_add_to_the_users_own(policy) -> None:
    access = policy.resolve("rita@example.nhs.uk", ["capwatch-midlands", "capwatch-analysts"])
    assert access is not None
    assert set(access.regions or ()) == {"North West", "Midlands"}
    assert access.is_analyst and not access.may_use_sql  # SQL needs national too


def test_national_group_wins_over_regions(policy) -> None:
    access = policy.resolve("rita@example.nhs.uk", ["capwatch-national"])
    assert access is not None and access.is_national and access.filters_scope() is None


def test_group_only_user(policy) -> None:
    access = policy.resolve("new.person@example.nhs.uk", ["capwatch-midlands"])
    assert access is not None and access.regions == ("Midlands",)


@pytest.mark.parametrize(
    ("email", "groups"),
    [
        ("stranger@example.com", []),
        ("stranger@example.com", ["some-other-group"]),
        ("ana@example.nhs.uk", []),  # analyst alone: no region to see
        ("stranger@example.com", ["capwatch-analysts"]),
        ("", ["capwatch-national"]),  # no e-mail claim: nobody to record
        (None, []),
    ],
)
def test_unknown_or_regionless_users_have_no_access(policy, email, groups) -> None:
    assert policy.resolve(email, groups) is None


def test_scoped_filters_replace_any_scope(policy) -> None:
    sam = policy.resolve("sam@example.nhs.uk")
    wide = Filters(regions=("North West",), scope_regions=("North West",))
    narrowed = scoped(wide, sam)
    assert set(narrowed.scope_regions or ()) == {"London", "South East"}
    assert narrowed.regions == ("North West",)  # the user's filter stays; scope intersects
    assert scoped(narrowed, local_access()).scope_regions is None


def test_local_access_is_national_analyst() -> None:
    access = local_access()
    assert access.is_national and access.may_use_sql and access.filters_scope() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[users]\n"a@b.uk" = national\n', r"not valid TOML.*line 2"),
        ('[users]\n"a@b.uk" = ["region:Atlantis"]\n', r"unknown region 'Atlantis'"),
        ('[users]\n"a@b.uk" = ["admin"]\n', r"unknown role 'admin'"),
        ('[users]\n"a@b.uk" = [1]\n', r"a role must be text"),
        ('[users]\n"a@b.uk" = {national = true}\n', r"roles must be a list"),
        ('[users]\n"not-an-email" = ["national"]\n', r"not an e-mail"),
        ('[users]\n"A@b.uk" = ["national"]\n"a@B.uk" = ["analyst"]\n', r"listed twice"),
        ('users = "everyone"\n', r"\[users\] must be a table"),
        ('[admins]\n"a@b.uk" = ["national"]\n', r"unknown setting\(s\) admins"),
        ("contact = 3\n", r"contact must be text"),
    ],
)
def test_malformed_files_say_which_file_and_what(text, message) -> None:
    with pytest.raises(AccessFileError, match=message) as info:
        parse_access(text, "/etc/capwatch/access.toml")
    assert "/etc/capwatch/access.toml" in str(info.value)


def test_load_from_file_and_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "access.toml"
    file.write_text(POLICY, encoding="utf-8")
    loaded = load_access(file)
    assert loaded.contact == "capwatch-admins@example.nhs.uk"
    assert loaded.resolve("sam@example.nhs.uk") is not None
    with pytest.raises(AccessFileError, match="not found"):
        load_access(tmp_path / "missing.toml")


def test_access_file_path_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CAPWATCH_ACCESS", str(tmp_path / "a.toml"))
    assert access_file_path() == tmp_path / "a.toml"
    monkeypatch.delenv("CAPWATCH_ACCESS")
    assert access_file_path() == Path(".streamlit") / "access.toml"


def test_describe() -> None:
    assert Access("x@y.uk", True, None, True).describe() == "national · analyst"
    assert Access("x@y.uk", False, ("London", "Midlands"), False).describe() == "London, Midlands"
