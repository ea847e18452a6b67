"""A brand reviewer finds the draft waiting on them, sees what changed and whether the brief is met, and
approves or asks for changes; the forms hold against double submits and forged posts."""
import uuid
from datetime import timedelta

from console import (EN, OFFICER, OTHER_BRAND, api, count_reviews, deliverable_status, draft_in_review,
                     signed_in_page)


def jakarta(moment):
    """The console's `8 Dec 2026, 16:00 WIB` (Asia/Jakarta is UTC+7 all year)."""
    local = moment + timedelta(hours=7)
    return f"{local.day} {local.strftime('%b %Y, %H:%M')} WIB"


def brand_reviews(draft_id):
    draft = api(OFFICER, "GET", f"/v1/drafts/{draft_id}")
    return [review for review in draft["reviews"] if review["reviewer_role"] == "brand"]


def decision_form(page, decision):
    return page.locator(f"form:has(input[name=decision][value={decision}])")


def hidden_fields(form):
    return {name: form.locator(f"input[name={name}]").get_attribute("value")
            for name in ("csrf_token", "idempotency_key", "decision")}


def test_the_review_queue_lists_the_waiting_draft_with_its_due_time(new_context):
    draft = draft_in_review(caption="Sarapan cepat sebelum sekolah, Susu Bunda selalu ada #SusuBunda @susubunda.id")
    page = signed_in_page(new_context)
    link = page.locator(f"a[href='/app/drafts/{draft['draft_id']}']")
    assert link.count() == 1, "the draft waiting for the brand is in the queue on /app"
    assert link.inner_text() == draft["caption"]
    row = page.locator("li.card", has=link)
    due = row.locator("time").nth(1)
    assert due.get_attribute("datetime") == draft["draft_due_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert due.inner_text() == jakarta(draft["draft_due_at"])
    assert EN["queue.draft_due"] in row.inner_text()
    assert draft["kol_name"] in row.inner_text() and draft["campaign_title"] in row.inner_text()

    link.click()
    page.wait_for_url(f"**/app/drafts/{draft['draft_id']}")
    assert page.locator("p.caption").first.inner_text() == draft["caption"]
    assert page.locator("img[alt]").first.get_attribute("src") == draft["media_url"]


def test_the_compare_view_marks_removed_and_added_words_and_the_checklist_the_brief(new_context):
    draft = draft_in_review(
        caption="Pagi ceria bersama si kecil dan segelas Susu Bunda hangat #SusuBunda #PagiCeria",
        revised_caption="Pagi ceria bersama si kecil dan sarapan hangat #SusuBunda #PagiCeria")
    page = signed_in_page(new_context)
    response = page.goto(f"/app/drafts/{draft['draft_id']}")
    assert response.status == 200
    assert page.locator("h1").inner_text().endswith("v2")
    compare = page.locator(".compare")
    assert compare.get_by_role("heading", name="v1").is_visible() and compare.get_by_role("heading", name="v2").is_visible()
    removed = [text.strip() for text in compare.locator("del").all_inner_texts()]
    added = [text.strip() for text in compare.locator("ins").all_inner_texts()]
    assert removed == ["segelas Susu Bunda"], removed
    assert added == ["sarapan"], added
    # The words that stayed are not marked: the whole caption of each side reads as it was written.
    assert compare.locator("div").nth(0).locator("p").inner_text() == draft["previous_caption"]
    assert compare.locator("div").nth(1).locator("p").inner_text() == draft["caption"]

    checks = {item.split(":")[0].strip(): item.split(":")[1].strip()
              for item in page.locator("ul.checks li").all_inner_texts()}
    assert checks == {"#SusuBunda": EN["draft.found"], "#PagiCeria": EN["draft.found"], "@susubunda.id": EN["draft.missing"]}
    assert page.locator("ul.checks li.missing").inner_text().startswith("@susubunda.id")


def test_request_changes_sends_the_feedback_to_the_officer(new_context):
    draft = draft_in_review()
    page = signed_in_page(new_context)
    page.goto(f"/app/drafts/{draft['draft_id']}")
    feedback = "Kemasannya tertutup gelas; tolong tampilkan di depan."
    page.get_by_label(EN["draft.feedback_label"]).fill(feedback)
    page.get_by_role("button", name=EN["draft.request_changes"]).click()
    page.wait_for_url("**?done=request_changes")
    assert page.get_by_role("status").inner_text() == EN["draft.done.request_changes"]
    assert page.get_by_role("button", name=EN["draft.approve"]).count() == 0, "a decided draft offers no more decisions"

    assert deliverable_status(draft["deliverable_id"]) == "brand_feedback"
    reviews = brand_reviews(draft["draft_id"])
    assert [(r["decision"], r["message"]) for r in reviews] == [("request_changes", feedback)]
    assert feedback in page.locator("ol.history").inner_text()


def test_approve_works_without_javascript(new_context):
    draft = draft_in_review()
    page = signed_in_page(new_context, java_script_enabled=False)
    page.goto(f"/app/drafts/{draft['draft_id']}")
    with page.expect_navigation():
        page.get_by_role("button", name=EN["draft.approve"]).click()
    assert page.url.endswith(f"/app/drafts/{draft['draft_id']}?done=approve")
    assert page.get_by_role("status").inner_text() == EN["draft.done.approve"]
    assert page.locator("p.meta .stage").inner_text() == EN["deliverable.status.approved"]
    assert deliverable_status(draft["deliverable_id"]) == "approved"
    assert [r["decision"] for r in brand_reviews(draft["draft_id"])] == ["approve"]
    page.goto("/app")
    assert page.locator(f"a[href='/app/drafts/{draft['draft_id']}']").count() == 0, "an approved draft leaves the queue"


def test_a_double_submitted_form_makes_one_review(new_context):
    draft = draft_in_review()
    page = signed_in_page(new_context)
    page.goto(f"/app/drafts/{draft['draft_id']}")
    form = decision_form(page, "approve")
    action = form.get_attribute("action")
    fields = hidden_fields(form)
    before = count_reviews(draft["draft_id"])
    # The same form sent twice (a double click, or back and send again): same idempotency key.
    first = page.request.post(action, form=fields, max_redirects=0)
    second = page.request.post(action, form=fields, max_redirects=0)
    assert first.status == 303 and second.status == 303, (first.status, second.status, second.text()[:300])
    assert second.headers.get("location") == first.headers.get("location")
    assert second.headers.get("idempotent-replayed") == "true", "the second answer is the first one replayed"
    assert count_reviews(draft["draft_id"]) == before + 1
    assert [r["decision"] for r in brand_reviews(draft["draft_id"])] == ["approve"]
    # And with the browser: after the decision the page offers no form to send again.
    page.goto(f"/app/drafts/{draft['draft_id']}")
    assert decision_form(page, "approve").count() == 0


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(new_context):
    draft = draft_in_review()
    page = signed_in_page(new_context)
    page.goto(f"/app/drafts/{draft['draft_id']}")
    before = count_reviews(draft["draft_id"])

    # In the browser: the hidden input removed before sending.
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label(EN["draft.feedback_label"]).fill("Tanpa token CSRF")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=EN["draft.request_changes"]).click()
    assert navigation.value.status == 403
    assert EN["error.csrf"] in page.locator("main").inner_text()

    # Straight from the context's request API, with the session cookie: without the token, and with another's.
    page.goto(f"/app/drafts/{draft['draft_id']}")
    form = decision_form(page, "approve")
    fields = hidden_fields(form)
    action = form.get_attribute("action")
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert page.request.post(action, form=without, max_redirects=0).status == 403
    forged = dict(fields, csrf_token="A" * len(fields["csrf_token"]))
    assert page.request.post(action, form=forged, max_redirects=0).status == 403

    assert count_reviews(draft["draft_id"]) == before, "no review was written"
    assert deliverable_status(draft["deliverable_id"]) == "in_brand_review"
    page.goto(f"/app/drafts/{draft['draft_id']}")
    assert decision_form(page, "approve").count() == 1, "the draft still waits for a decision"


def test_another_brands_reviewer_gets_404_for_the_draft(new_context):
    draft = draft_in_review()
    page = signed_in_page(new_context, OTHER_BRAND)
    for path in (f"/app/drafts/{draft['draft_id']}", f"/app/campaigns/{draft['campaign_id']}",
                 f"/app/campaigns/{draft['campaign_id']}/report"):
        response = page.goto(path)
        assert response.status == 404, f"{path}: {response.status}"
        assert page.locator("h1").inner_text() == EN["error.not_found.title"]
        assert draft["caption"] not in page.content()
    page.goto("/app")
    assert page.locator(f"a[href='/app/drafts/{draft['draft_id']}']").count() == 0, "nor is it in their queue"
    # Nor can they decide it by posting the form.
    action = f"/app/drafts/{draft['draft_id']}/reviews"
    csrf = page.locator("form[action='/app/logout'] input[name=csrf_token]").get_attribute("value")
    answer = page.request.post(action, form={"csrf_token": csrf, "decision": "approve", "idempotency_key": str(uuid.uuid4())},
                               max_redirects=0)
    assert answer.status == 404
    assert deliverable_status(draft["deliverable_id"]) == "in_brand_review"
