"""When a law is amended or repealed, the editor finds every item citing it and revises them together."""

from __future__ import annotations

import datetime as dt

import pytest

from jianguan.catalog import services
from jianguan.catalog.choices import BasisStatus, VersionStatus
from jianguan.catalog.tests.factories import make_basis, published_item
from jianguan.core.errors import DomainError
from jianguan.core.models import AuditEntry

OLD = "江苏省食品小作坊和食品摊贩管理条例"


@pytest.fixture
def citing(db):
    old = make_basis(OLD, "local_regulation")
    other = make_basis("中华人民共和国药品管理法")
    return {
        "old": old,
        "a": published_item("对食品小作坊的监督检查", basis=old),
        "b": published_item("对食品摊贩的监督检查", basis=old),
        "c": published_item("对药品经营企业的监督检查", basis=other),
        "d": published_item("对食用农产品市场的监督检查", kind_code="002", basis=old),
    }


def test_it_finds_every_item_citing_a_basis(citing) -> None:
    found = set(services.items_citing(citing["old"]).values_list("pk", flat=True))
    assert found == {citing["a"].pk, citing["b"].pk, citing["d"].pk}


def test_recording_an_amendment_is_audited_with_the_count_of_citing_items(citing, province_editor) -> None:
    services.update_legal_basis(citing["old"], actor=province_editor, status=BasisStatus.AMENDED,
                                amended_on=dt.date(2024, 11, 28), reason="省人大常委会修正")
    entry = AuditEntry.objects.get(event="catalog.basis.amended")
    assert entry.details["citing_items"] == 3


def test_it_revises_the_citing_items_together_and_replaces_the_basis(citing, province_editor) -> None:
    new = make_basis("江苏省食品小作坊和食品摊贩管理条例（2024年修正）", "local_regulation")
    outcomes = services.revise_citing_items(citing["old"], actor=province_editor, reason="条例修正",
                                            replace_with=new)
    by_item = {o.item.pk: o for o in outcomes}
    assert by_item[citing["a"].pk].outcome == "started"
    assert by_item[citing["b"].pk].outcome == "started"
    assert by_item[citing["d"].pk].outcome == "skipped"  # another department's item
    for key in ("a", "b"):
        version = by_item[citing[key].pk].version
        assert version.status == VersionStatus.DRAFT and version.based_on is not None
        assert [c.basis for c in version.citations.all()] == [new]
        assert version.citations.get().article == "第一百一十条"  # article and text kept for the editor to check
    results = services.submit_many([by_item[citing[k].pk].version for k in ("a", "b")], actor=province_editor)
    assert [v.status for v, _error in results] == [VersionStatus.SUBMITTED, VersionStatus.SUBMITTED]


def test_it_reuses_an_open_draft_and_skips_versions_under_review(citing, province_editor) -> None:
    draft = services.start_revision(citing["a"], actor=province_editor, reason="先行修改")
    review = services.start_revision(citing["b"], actor=province_editor, reason="先行修改")
    services.submit_version(review, actor=province_editor)
    outcomes = {o.item.pk: o for o in services.revise_citing_items(citing["old"], actor=province_editor,
                                                                   reason="条例修正")}
    assert outcomes[citing["a"].pk].outcome == "reused" and outcomes[citing["a"].pk].version == draft
    assert outcomes[citing["b"].pk].outcome == "skipped"
    assert outcomes[citing["b"].pk].message == "该事项的版本正在审核中"


def test_it_needs_a_reason(citing, province_editor) -> None:
    with pytest.raises(DomainError):
        services.revise_citing_items(citing["old"], actor=province_editor, reason=" ")


def test_a_repeal_needs_its_date(citing, province_editor) -> None:
    with pytest.raises(DomainError) as exc:
        services.update_legal_basis(citing["old"], actor=province_editor, status=BasisStatus.REPEALED,
                                    repealed_on=None)
    assert "repealed_on" in exc.value.fields
