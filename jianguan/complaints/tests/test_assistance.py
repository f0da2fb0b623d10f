"""Assistance: the classifier (train, held-out accuracy, suggestion with confidence, corrections kept and used) and
duplicate proposals (并单)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext

from jianguan.complaints import classifier, services
from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.models import Category, ClassificationFeedback, ClassifierModel
from jianguan.complaints.tests.factories import intake_record, make_ticket

pytestmark = pytest.mark.django_db

TEXTS = {
    "0101": ["饭店后厨卫生很差，吃完拉肚子", "餐馆使用过期食材，餐具不消毒", "小吃店苍蝇乱飞，卫生状况堪忧",
             "食堂饭菜变质，多名员工腹泻"],
    "0201": ["健身房跑路，会员卡余额无法退还", "美容店关门，充值的预付卡不退款", "培训机构倒闭，预付学费退不了",
             "理发店换老板，会员卡不能用了"],
    "0403": ["楼下烧烤店噪音扰民到深夜", "广场舞音响太吵影响休息", "工厂机器轰鸣噪声扰民", "酒吧噪音很大吵得睡不着"],
    "0901": ["公司拖欠三个月工资不发", "包工头拖欠农民工工资", "老板欠薪跑路讨薪无门", "单位克扣工资并拖欠加班费"],
}


def labelled_rows(repeat: int = 4) -> list[tuple[str, str, str | None, int]]:
    kinds = {"0101": "001", "0201": "001", "0403": "002", "0901": "017"}
    rows = []
    for i in range(repeat):
        for code, texts in TEXTS.items():
            for text in texts:
                rows.append((f"{text}，第{i}次反映。", code, kinds[code], 1))
    return rows


@pytest.fixture
def trained(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return classifier.train(rows=labelled_rows())


@pytest.mark.slow
def test_it_trains_and_reports_held_out_accuracy(trained) -> None:
    assert trained.held_out > 0 and trained.category_accuracy >= 0.7
    row = ClassifierModel.objects.get(version=trained.version)
    assert row.active and row.category_accuracy == pytest.approx(trained.category_accuracy, abs=1e-4)
    assert trained.path.exists()


@pytest.mark.slow
def test_it_suggests_a_category_and_department_with_confidence(trained) -> None:
    suggestion = classifier.suggest("小区楼下的大排档噪音扰民，每天吵到凌晨")
    assert suggestion.category_code == "0403" and suggestion.department_kind == "002"
    assert 0 < suggestion.confidence <= 1


@pytest.mark.slow
def test_the_suggestion_is_stored_on_the_ticket_and_a_correction_is_kept(trained, nanjing_dispatcher) -> None:
    ticket = services.receive_complaint(intake_record(content="健身房突然关门，会员卡里的钱退不了"), actor=None,
                                        channel="portal").complaints[0]
    services.suggest_classification(ticket)
    assert ticket.suggested_category.code == "0201" and ticket.suggestion_model == trained.version
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0202"))
    feedback = ClassificationFeedback.objects.get()
    assert (feedback.suggested_category.code, feedback.chosen_category.code) == ("0201", "0202")


@pytest.mark.slow
def test_a_tampered_artifact_is_not_loaded(trained) -> None:
    trained.path.write_bytes(trained.path.read_bytes() + b"x")
    classifier.reset()
    assert classifier.suggest("饭店卫生差") is None


@pytest.mark.slow
def test_the_train_command_prints_held_out_accuracy_and_uses_corrections(settings, tmp_path, capsys,
                                                                         nanjing_dispatcher) -> None:
    settings.VAR_DIR = tmp_path
    for code, texts in TEXTS.items():
        for text in texts * 2:
            ticket = make_ticket(ComplaintStatus.REGISTERED, category=code, content=text)
            assert ticket.category.code == code
    ClassificationFeedback.objects.create(complaint=ticket, chosen_category=ticket.category,
                                          suggested_category=Category.objects.get(code="0101"))
    call_command("complaints", "train")
    out = capsys.readouterr().out
    assert "held-out accuracy: category" in out and "1 handler corrections" in out


def test_too_little_data_is_refused(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    with pytest.raises(classifier.TooLittleData):
        classifier.train(rows=labelled_rows()[:5])
    assert classifier.suggest("任何文本") is None


def test_duplicates_are_proposed_for_the_same_entity_and_similar_text() -> None:
    first = make_ticket(ComplaintStatus.REGISTERED, content="南京某某餐饮后厨卫生差，餐具不消毒，吃完腹泻")
    unrelated = make_ticket(ComplaintStatus.REGISTERED, content="某工地夜间施工噪音扰民", subject_name="另一家公司",
                            place_address="南京市鼓楼区汉中路1号", category="0703")
    second = make_ticket(ComplaintStatus.RECEIVED, content="南京某某餐饮后厨卫生很差，餐具没有消毒，吃了腹泻")
    proposals = services.propose_duplicates(second)
    assert [p.candidate for p in proposals][0] == first
    assert unrelated not in [p.candidate for p in proposals]
    assert "same_subject_name" in proposals[0].reasons and proposals[0].score >= 0.55


def test_a_merge_closes_the_duplicate_into_the_master(nanjing_dispatcher) -> None:
    first = make_ticket(ComplaintStatus.REGISTERED)
    second = make_ticket(ComplaintStatus.RECEIVED)
    services.propose_duplicates(second)
    services.merge_complaint(second, actor=nanjing_dispatcher, into=first)
    assert second.status == ComplaintStatus.MERGED and second.merged_into == first
    assert second.duplicate_proposals.get(candidate=first).status == "merged"


@pytest.mark.slow
def test_a_worker_prepares_the_aids_of_new_tickets_in_one_batch(trained, settings, monkeypatch,
                                                                 django_capture_on_commit_callbacks) -> None:
    from django.core.cache import cache

    import jianguan.complaints.tasks as tasks
    import jianguan.core.tasks as core_tasks
    from jianguan.complaints.models import Complaint, DuplicateProposal

    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker: intake only schedules the work
    cache.clear()
    sent = []
    monkeypatch.setattr(tasks.assist_new_complaints, "apply_async", lambda **kw: sent.append(kw))  # the broker seam
    monkeypatch.setattr(core_tasks.seal_audit, "apply_async", lambda **kw: None)
    monkeypatch.setattr(core_tasks.deliver_outbox, "apply_async", lambda **kw: None)
    import jianguan.core.deferred as deferred

    now = 1_800_000_000.1  # both intakes inside one debounce window, however slow the machine
    monkeypatch.setattr(deferred.time, "time", lambda: now)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.receive_complaint(intake_record(content="南京某某餐饮后厨卫生差，餐具不消毒，吃完腹泻"),
                                           actor=None, channel="portal").complaints[0]
    with django_capture_on_commit_callbacks(execute=True):
        second = services.receive_complaint(intake_record(content="南京某某餐饮后厨卫生很差，餐具没有消毒，腹泻"),
                                            actor=None, channel="portal").complaints[0]
    assert len(sent) == 1  # one run for the burst, when its window ends
    assert now < sent[0]["eta"].timestamp() <= now + settings.COMPLAINT_ASSIST_DELAY + deferred.CLOCK_MARGIN
    assert Complaint.objects.filter(assisted_at__isnull=True).count() == 2
    assert services.assist_pending() == 2
    second.refresh_from_db()
    assert second.assisted_at is not None and second.suggested_category.code == "0101"
    assert DuplicateProposal.objects.filter(complaint=second, candidate=first).exists()
    assert services.assist_pending() == 0  # claimed once, never prepared twice


def test_only_the_best_few_duplicates_are_proposed() -> None:
    text = "南京某某餐饮后厨卫生差，餐具不消毒，吃完腹泻"
    close = [make_ticket(ComplaintStatus.REGISTERED, content=text) for _ in range(4)]  # same text, entity and place
    related = [make_ticket(ComplaintStatus.REGISTERED, content=f"南京某某餐饮后厨卫生差，门口占道经营{i}次",
                           place_address=f"南京市鼓楼区汉中路{i}号") for i in range(4)]  # same entity, other matter
    newest = make_ticket(ComplaintStatus.RECEIVED, content=text)
    proposals = services.propose_duplicates(newest)
    assert len(proposals) == 5  # complaints.duplicate.max_proposals
    chosen = {p.candidate_id for p in proposals}
    assert {c.pk for c in close} <= chosen and len(chosen & {r.pk for r in related}) == 1
    assert newest.duplicate_proposals.count() == 5


def test_a_ticket_whose_aids_fail_is_left_for_the_next_run_and_does_not_stop_the_others(monkeypatch) -> None:
    from jianguan.complaints.models import Complaint
    from jianguan.core.testing.personas import make_subject

    shop = make_subject("320106", name="南京金陵小吃店")
    first = make_ticket(ComplaintStatus.RECEIVED, content="楼下烧烤店噪音扰民到深夜，请处理")
    second = make_ticket(ComplaintStatus.RECEIVED, content="公司拖欠三个月工资不发，多次讨要无果",
                         subject_name="南京金陵小吃店")
    real = services._propose_many

    def flaky(tickets, *args, **kw):
        if first.pk in [c.pk for c in tickets]:
            raise RuntimeError("database hiccup")
        return real(tickets, *args, **kw)

    monkeypatch.setattr(services, "_propose_many", flaky)
    assert services.assist_pending() == 1  # the batch fails, then each ticket on its own
    assert Complaint.objects.get(pk=first.pk).assisted_at is None  # its claim was rolled back with the work
    assert Complaint.objects.get(pk=second.pk).assisted_at is not None
    assert Complaint.objects.get(pk=second.pk).subject_candidate == shop  # redone from the stored row
    monkeypatch.setattr(services, "_propose_many", real)
    assert services.assist_pending() == 1
    assert Complaint.objects.get(pk=first.pk).assisted_at is not None


def test_a_batch_is_assisted_set_wise_with_a_fixed_number_of_queries(django_assert_max_num_queries) -> None:
    """However many tickets a run takes, the claim, suggestions, candidate entities, duplicate search and proposals
    cost the same few statements, and each ticket gets what it would get on its own."""
    from jianguan.complaints.models import Complaint, DuplicateProposal
    from jianguan.core.testing.personas import make_subject

    shop = make_subject("320106", name="南京金陵小吃店")
    make_subject("320508", name="南京金陵小吃店")  # same name in another city: not Nanjing's candidate
    text = "南京金陵小吃店后厨卫生差，餐具不消毒，吃完腹泻"
    tickets = [make_ticket(ComplaintStatus.RECEIVED, content=f"{text}{'！' * i}", subject_name="南京金陵小吃店",
                           place_address=f"南京市鼓楼区中山路{i}号", reporter_phone=f"1391234{i:04d}")
               for i in range(12)]
    noise = make_ticket(ComplaintStatus.RECEIVED, content="某工地夜间施工噪音扰民", subject_name="另一家公司",
                        place_address="南京市鼓楼区汉中路1号")
    suzhou = make_ticket(ComplaintStatus.RECEIVED, content=text, subject_name="南京金陵小吃店", region="320508",
                         place_address="苏州市姑苏区人民路1号")
    with django_assert_max_num_queries(20):  # one ticket at a time took over 100 for these 14
        assert services.assist_pending() == 14
    assert set(Complaint.objects.filter(pk__in=[t.pk for t in tickets]).values_list("subject_candidate", flat=True)) \
        == {shop.pk}
    last = tickets[-1]
    proposed = set(DuplicateProposal.objects.filter(complaint=last).values_list("candidate_id", flat=True))
    assert len(proposed) == 5 and proposed <= {t.pk for t in tickets[:-1]}  # the best few of the same entity
    assert not DuplicateProposal.objects.filter(candidate__in=[noise, suzhou]).exists()  # other matter, other city
    assert not DuplicateProposal.objects.filter(complaint__in=[noise, suzhou]).exists()
    assert services.assist_pending() == 0


def test_the_claim_writes_the_suggestion_and_a_lost_claim_writes_nothing(trained) -> None:
    """The claim and the classifier's suggestion are one statement: the tickets claimed get both; a ticket another
    worker claimed first keeps what that worker wrote."""
    from jianguan.complaints.models import Category, Complaint

    mine = make_ticket(ComplaintStatus.RECEIVED, content="饭店后厨卫生很差，吃完拉肚子，餐具不消毒")
    theirs = make_ticket(ComplaintStatus.RECEIVED, content="饭店后厨卫生很差，吃完拉肚子，餐具不消毒")
    other = Category.objects.get(code="0901")
    stamp = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    Complaint.objects.filter(pk=theirs.pk).update(assisted_at=stamp, suggested_category=other,
                                                  suggestion_confidence=0.5, suggestion_model=999)
    plans = [(Complaint.objects.get(pk=mine.pk), classifier.suggest(mine.content)),
             (Complaint.objects.get(pk=theirs.pk), classifier.suggest(theirs.content))]
    plans[1][0].suggestion_model = None  # as read before the other worker's claim
    categories = {c.code: c for c in Category.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        assert services._assist(plans, categories, stamp + dt.timedelta(minutes=1)) == 1
    table = Complaint._meta.db_table
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")
               and table in q["sql"]]
    assert len(updates) == 1  # one new version of each claimed row, not a claim and then the suggestion
    mine.refresh_from_db()
    theirs.refresh_from_db()
    suggestion = plans[0][1]
    assert mine.assisted_at == stamp + dt.timedelta(minutes=1)
    assert (mine.suggested_category.code, mine.suggested_kind_id, mine.suggestion_model) == \
        ("0101", suggestion.department_kind, suggestion.model_version)
    assert mine.suggestion_confidence == pytest.approx(suggestion.confidence)
    assert (theirs.assisted_at, theirs.suggested_category_id, theirs.suggestion_confidence, theirs.suggestion_model) \
        == (stamp, other.pk, 0.5, 999)


def test_tickets_of_one_category_are_candidates_only_as_far_as_the_latest_few(monkeypatch) -> None:
    """The category is a broad key: of a city's many tickets in one category, only the latest are read and scored."""
    from jianguan.complaints.models import Complaint, DuplicateProposal

    monkeypatch.setattr(services, "DUPLICATE_CANDIDATES", 3)
    text = "饭店后厨卫生很差，餐具不消毒，吃完拉肚子"
    earlier = [make_ticket(ComplaintStatus.RECEIVED, content=f"{text}{'！' * i}", category_code="0101",
                           subject_name=f"第{i}家饭店", place_address=f"南京市鼓楼区中山路{i}号",
                           reporter_phone=f"1381234{i:04d}") for i in range(6)]
    other_city = make_ticket(ComplaintStatus.RECEIVED, content=text, category_code="0101", region="320508",
                             subject_name="苏州饭店", place_address="苏州市姑苏区人民路1号",
                             reporter_phone="13700000001")
    assert services.assist_pending() == 7
    Complaint.objects.filter(pk__in=[t.pk for t in earlier]).update(submitted_at=F("submitted_at") - Value(
        dt.timedelta(minutes=1)))  # strictly before the new ticket
    new = make_ticket(ComplaintStatus.RECEIVED, content=text, category_code="0101", subject_name="又一家饭店",
                      place_address="南京市鼓楼区汉中路9号", reporter_phone="13600000009")
    assert services.assist_pending() == 1
    proposed = set(DuplicateProposal.objects.filter(complaint=new).values_list("candidate_id", flat=True))
    assert proposed == {t.pk for t in earlier[-3:]}  # the latest three of the category in the city
    assert other_city.pk not in proposed


def test_the_reporter_phone_key_has_one_plain_index() -> None:
    """Repeat filers are found by equality on the keyed phone hash: no pattern-ops twin to write for each ticket."""
    from django.db import connection

    names = {name for name, info in connection.introspection.get_constraints(
        connection.cursor(), "complaints_reporter").items() if info["index"]}
    assert "complaints_reporter_phone" in names
    assert not [n for n in names if n.endswith("_like")]


def test_duplicate_proposals_are_looked_up_by_complaint_through_the_unique_pair() -> None:
    from django.db import connection

    constraints = connection.introspection.get_constraints(connection.cursor(), "complaints_duplicateproposal")
    by_columns = [tuple(info["columns"]) for info in constraints.values() if info["index"] or info["unique"]]
    assert ("complaint_id", "candidate_id") in by_columns and ("candidate_id",) in by_columns
    assert ("complaint_id",) not in by_columns  # the pair's leading column serves it


def test_a_second_look_updates_the_scores_and_keeps_a_dispatchers_decision() -> None:
    from jianguan.complaints.models import DuplicateProposal

    first = make_ticket(ComplaintStatus.REGISTERED, content="南京某某餐饮后厨卫生差，餐具不消毒，吃完腹泻")
    second = make_ticket(ComplaintStatus.RECEIVED, content="南京某某餐饮后厨卫生很差，餐具没有消毒，吃了腹泻")
    [proposal] = services.propose_duplicates(second)
    assert proposal.pk and proposal.candidate == first
    DuplicateProposal.objects.filter(pk=proposal.pk).update(status="dismissed", score=0.01, reasons=["old"])
    [again] = services.propose_duplicates(second)
    stored = DuplicateProposal.objects.get(complaint=second, candidate=first)
    assert again.pk == stored.pk == proposal.pk and DuplicateProposal.objects.filter(complaint=second).count() == 1
    assert stored.status == "dismissed"  # the dispatcher's decision stands
    assert stored.score == proposal.score and stored.reasons == proposal.reasons  # the scores are the new look's


def test_a_repeat_filers_tickets_within_the_window_are_candidates_by_the_phone_alone() -> None:
    """The same reporter (by the phone's blind index) is a key of its own: another entity at another address is still
    a candidate, but only within the window (``complaints.duplicate.window_days``)."""
    from jianguan.complaints.models import Complaint, DuplicateProposal

    text = "楼下烧烤店油烟直排，噪音扰民到凌晨"
    recent = make_ticket(ComplaintStatus.RECEIVED, content=text, subject_name="老王烧烤",
                         place_address="南京市鼓楼区中山路1号", reporter_phone="13912345678")
    old = make_ticket(ComplaintStatus.RECEIVED, content=text, subject_name="老李烧烤",
                      place_address="南京市鼓楼区中山路2号", reporter_phone="13912345678")
    stranger = make_ticket(ComplaintStatus.RECEIVED, content=text, subject_name="老赵烧烤",
                           place_address="南京市鼓楼区中山路3号", reporter_phone="13700000000")
    assert services.assist_pending() == 3
    Complaint.objects.filter(pk=old.pk).update(submitted_at=F("submitted_at") - Value(dt.timedelta(days=400)))
    Complaint.objects.filter(pk__in=[recent.pk, stranger.pk]).update(
        submitted_at=F("submitted_at") - Value(dt.timedelta(minutes=1)))
    new = make_ticket(ComplaintStatus.RECEIVED, content=text, subject_name="老张烧烤",
                      place_address="南京市鼓楼区汉中路9号", reporter_phone="139 1234 5678")
    assert services.assist_pending() == 1
    proposals = {p.candidate_id: p.reasons for p in DuplicateProposal.objects.filter(complaint=new)}
    assert set(proposals) == {recent.pk}
    assert "same_reporter" in proposals[recent.pk]
