"""Deciding a proposal: approve, reject with a reason, or offer another schedule, each behind a page that
says what will happen. Agents decide inside the policy; outside it needs a supervisor. A second decision,
by a colleague at the same time or a second click, is told the proposal was already decided and changes
nothing."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select, text

from portal.events.models import DomainEvent
from portal.plans import decisions
from portal.plans.errors import PlanProblem
from portal.plans.models import PaymentPlan
from portal.settings.plan_settings import plan_limit_key
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR, csrf_token
from tests.plans.staff_support import NOW, main_of, reread, text_of

ALREADY = "This proposal has already been decided. Nothing else has changed."
NEEDS_SUPERVISOR = "A decision outside the policy needs a supervisor."


@pytest.fixture()
def staff(app, staff_login):
    """staff("agent") -> a client logged in with that role, in English, at NOW."""

    def make(role: str):
        client = app.test_client()
        with time_machine.travel(NOW, tick=False):
            client.member = staff_login(client, role, language="en")
        return client

    return make


def _post(client, plan: PaymentPlan, action: str, **data):
    with time_machine.travel(NOW, tick=False):
        token = csrf_token(client, "/staff/account")
        return client.post(f"/staff/plans/{plan.id}/{action}", data={"csrf_token": token, **data})


def _get(client, path: str) -> str:
    with time_machine.travel(NOW, tick=False):
        return client.get(path).get_data(as_text=True)


def _flash_after(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    html = _get(client, response.headers["Location"])
    return text_of(html.split('id="messages"', 1)[1].split("</div>", 1)[0])


def _events(session, plan: PaymentPlan, kind: str) -> list[DomainEvent]:
    return list(
        session.scalars(
            select(DomainEvent).where(
                DomainEvent.kind == kind,
                DomainEvent.subject_type == "payment_plan",
                DomainEvent.subject_id == str(plan.id),
            )
        )
    )


def test_the_decision_page_shows_the_proposal_the_schedule_and_the_story(session, propose, staff):
    plan = propose(instalments=12, budget={"income": 150000, "expenses": 140000})
    agent = staff("agent")
    page = text_of(main_of(_get(agent, f"/staff/plans/{plan.id}/decide")))
    assert f"Proposal {plan.reference} from {plan.customer.name}" in page
    assert "The customer's own schedule" in page and page.count("€50.41") >= 11 and "€50.49" in page
    assert "I lost my job in October" in page and "What is left €100.00" in page
    # The story beside it: the customer's own timeline, newest first.
    assert "Payment plan proposed" in page and "Invoice issued" in page
    assert "only a supervisor can approve it as it is" in page
    assert "Approve…" not in page, "an agent has no button it may not press"
    assert "Reject…" in page and "Preview the new schedule" in page


def test_an_agent_approving_outside_the_policy_is_refused_and_nothing_changes(session, propose, staff):
    plan = propose(instalments=12)
    agent = staff("agent")
    told = _flash_after(agent, _post(agent, plan, "approve", confirmed="yes"))
    assert NEEDS_SUPERVISOR in told
    assert reread(session, plan).status == "proposed" and not reread(session, plan).instalments
    assert _events(session, plan, "plan.agreed") == []


def test_a_supervisor_approves_outside_the_policy_after_seeing_what_happens(session, propose, staff):
    plan = propose(instalments=12)
    supervisor = staff("supervisor")
    confirm = _post(supervisor, plan, "approve")
    assert confirm.status_code == 200
    page = text_of(main_of(confirm.get_data(as_text=True)))
    assert f"Approve plan {plan.reference} of {plan.customer.name}?" in page
    assert "This is outside the policy in force: More instalments than the policy allows (at most 6)." in page
    assert reread(session, plan).status == "proposed", "the first press only says what will happen"

    told = _flash_after(supervisor, _post(supervisor, plan, "approve", confirmed="yes"))
    assert f"Plan {plan.reference} is approved and runs from now." in told
    assert plan.customer.email in told
    done = reread(session, plan)
    assert done.status == "active" and len(done.instalments) == 12
    assert done.decided_by == supervisor.member.email
    assert [event.actor_id for event in _events(session, plan, "plan.agreed")] == [supervisor.member.email]


def test_an_agent_approves_a_proposal_the_policy_has_come_to_allow(session, propose, staff):
    plan = propose(instalments=12)
    with time_machine.travel(NOW, tick=False):  # in force at the moment the agent decides, whatever today is
        set_settings(session, {plan_limit_key("consumer", "max_instalments"): "12"}, actor=TEST_ACTOR)
        session.commit()
    agent = staff("agent")
    page = text_of(main_of(_get(agent, f"/staff/plans/{plan.id}/decide")))
    assert "The policy in force now allows it." in page and "Approve…" in page
    told = _flash_after(agent, _post(agent, plan, "approve", confirmed="yes"))
    assert "is approved" in told
    assert reread(session, plan).status == "active"


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_rejection_needs_a_reason(session, propose, staff, reason):
    plan = propose(instalments=12)
    agent = staff("agent")
    answer = _post(agent, plan, "reject", reason=reason, confirmed="yes")
    assert answer.status_code == 400
    assert "Give the customer a reason." in text_of(answer.get_data(as_text=True))
    assert reread(session, plan).status == "proposed"


def test_an_agent_rejects_with_a_reason_the_debtor_will_read(session, propose, staff):
    plan = propose(instalments=12)
    agent = staff("agent")
    reason = "Twelve months is too long for this amount. Six months works; call us on 020 123 4567."
    confirm = text_of(main_of(_post(agent, plan, "reject", reason=reason).get_data(as_text=True)))
    assert f"Reject plan {plan.reference}" in confirm and reason in confirm
    assert "reminders go on" in confirm
    assert reread(session, plan).status == "proposed"
    told = _flash_after(agent, _post(agent, plan, "reject", reason=reason, confirmed="yes"))
    assert f"Plan {plan.reference} is rejected." in told
    done = reread(session, plan)
    assert (done.status, done.decision_note, done.decided_by) == ("rejected", reason, agent.member.email)
    assert [event.payload["note"] for event in _events(session, plan, "plan.rejected")] == [reason]


def test_a_counter_proposal_is_previewed_with_the_verdict_then_sent(session, propose, staff):
    plan = propose(instalments=12)
    agent = staff("agent")
    choices = {"instalments": "6", "every": "month", "first": "2026-12-20", "note": "Six months is our limit."}
    preview = _post(agent, plan, "counter", **choices)
    assert preview.status_code == 200
    page = text_of(main_of(preview.get_data(as_text=True)))
    assert "Offer this schedule to" in page and "Inside the policy." in page
    assert page.count("€100.83") == 5 and "€100.85" in page, "the rounding in the last instalment"
    assert "20 Dec 2026" in page and "20 May 2027" in page
    assert "Send this schedule" in page
    assert reread(session, plan).status == "proposed", "the preview sends nothing"

    told = _flash_after(agent, _post(agent, plan, "counter", confirmed="yes", **choices))
    assert "The other schedule for plan" in told
    done = reread(session, plan)
    assert (done.status, done.instalment_count, done.decision_note) == ("countered", 6, "Six months is our limit.")
    assert len(done.proposed_schedule) == 12, "the customer's own proposal is kept for the story"
    assert len(_events(session, plan, "plan.countered")) == 1


def test_an_agent_cannot_send_a_counter_proposal_outside_the_policy(session, propose, staff):
    plan = propose(instalments=12)
    agent = staff("agent")
    choices = {"instalments": "10", "every": "month", "first": "2026-12-20"}
    page = text_of(main_of(_post(agent, plan, "counter", **choices).get_data(as_text=True)))
    assert "Outside the policy: More instalments than the policy allows (at most 6)." in page
    assert "Only a supervisor can offer a schedule outside the policy." in page
    assert "Send this schedule" not in page
    told = _flash_after(agent, _post(agent, plan, "counter", confirmed="yes", **choices))
    assert NEEDS_SUPERVISOR in told and reread(session, plan).status == "proposed"

    supervisor = staff("supervisor")
    assert "Send this schedule" in _post(supervisor, plan, "counter", **choices).get_data(as_text=True)
    _flash_after(supervisor, _post(supervisor, plan, "counter", confirmed="yes", **choices))
    assert reread(session, plan).status == "countered"


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"instalments": "\u0666", "first": "2026-12-20"}, "Choose from 1 to 60 instalments."),
        ({"instalments": "0", "first": "2026-12-20"}, "Choose from 1 to 60 instalments."),
        ({"instalments": "6", "first": "20-12-2026"}, "Enter the date of the first payment, such as 2027-01-31."),
        ({"instalments": "6", "first": "2026-11-30"}, "The first payment cannot be in the past."),
    ],
)
def test_a_counter_proposal_with_bad_input_says_what_is_wrong(session, propose, staff, choices, message):
    plan = propose(instalments=12)
    agent = staff("agent")
    answer = _post(agent, plan, "counter", every="month", **choices)
    assert answer.status_code == 400
    assert message in text_of(answer.get_data(as_text=True))
    assert reread(session, plan).status == "proposed"


def test_two_staff_deciding_at_once_the_second_is_told_it_was_decided(session, propose, staff):
    plan = propose(instalments=12)
    agent, supervisor = staff("agent"), staff("supervisor")
    reason = "Too long."
    # The agent has the rejection's confirmation open while the supervisor approves.
    assert _post(agent, plan, "reject", reason=reason).status_code == 200
    _flash_after(supervisor, _post(supervisor, plan, "approve", confirmed="yes"))
    told = _flash_after(agent, _post(agent, plan, "reject", reason=reason, confirmed="yes"))
    assert ALREADY in told
    done = reread(session, plan)
    assert (done.status, done.decision_note, done.decided_by) == ("active", None, supervisor.member.email)
    assert _events(session, plan, "plan.rejected") == []
    # And the supervisor's own second click (the confirmation pressed twice) makes no second agreement.
    assert ALREADY in _flash_after(supervisor, _post(supervisor, plan, "approve", confirmed="yes"))
    assert ALREADY in _flash_after(
        agent, _post(agent, plan, "counter", instalments="6", every="month", first="2026-12-20", confirmed="yes")
    )
    assert len(_events(session, plan, "plan.agreed")) == 1 and len(reread(session, plan).instalments) == 12
    # The decision page of a decided proposal goes to the plan's page, saying so.
    with time_machine.travel(NOW, tick=False):
        answer = agent.get(f"/staff/plans/{plan.id}/decide")
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"/staff/plans/{plan.id}")


def test_a_viewer_sees_the_proposal_but_cannot_decide(session, propose, staff):
    plan = propose(instalments=12)
    viewer = staff("viewer")
    page = text_of(main_of(_get(viewer, f"/staff/plans/{plan.id}/decide")))
    assert "You can read this proposal but not decide on it." in page
    assert "Reject…" not in page
    for action in ("approve", "reject", "counter"):
        assert _post(viewer, plan, action, confirmed="yes", reason="No.").status_code == 403
    assert reread(session, plan).status == "proposed"


def test_the_lock_reads_the_decision_a_colleague_committed_meanwhile(session, propose):
    """The page read the plan before the lock; a colleague's approval landed in between. Under the lock the
    decision sees that approval (not the status the request read first), so it is refused, not made twice."""
    plan = propose(instalments=12)
    seen = session.get(PaymentPlan, plan.id)
    assert seen.status == "proposed"
    # The colleague's commit, as another connection would make it: the rows change, this session's copy not.
    session.connection().execute(
        text("UPDATE payment_plans SET status = 'active', decided_by = 'colleague@example.com' WHERE id = :id"),
        {"id": plan.id},
    )
    locked = decisions.lock_plan(session, plan.id)
    assert locked is seen and locked.status == "active"
    with time_machine.travel(NOW, tick=False), pytest.raises(PlanProblem) as refused:
        decisions.approve_plan(session, locked, actor=TEST_ACTOR, staff_email="me@example.com", supervisor=True)
    assert refused.value.code == "not_waiting" and locked.decided_by == "colleague@example.com"
