"""The debtor's side, through the pages: dispute one line with a photo, see it on hold, pay the rest, follow
the conversation, download the files, withdraw."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta

import time_machine
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.disputes.models import Dispute, DisputeFile
from portal.payments.services import choose_invoices
from tests.debits.debtor_pages import messages, text_of, token_on
from tests.disputes.files_support import MAKE, photo_with_location, small_pdf
from tests.payments.conftest import start_payment


def _form(client, invoice) -> str:
    page = client.get(f"/dispute?invoice={invoice.number}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _dispute_line(client, invoice, *, line_position=2, files=None, explanation="The fixed charge is twice."):
    html = _form(client, invoice)
    line = next(line for line in invoice.lines if line.position == line_position)
    data = {
        "csrf_token": token_on(html),
        "invoice": invoice.number,
        "line": str(line.id),
        "reason": "amount_wrong",
        "explanation": explanation,
        "files": files or [],
    }
    return client.post("/dispute", data=data, content_type="multipart/form-data")


def test_a_debtor_disputes_one_line_with_a_photo_and_pays_the_rest(client, session, login, energy_invoice, app) -> None:
    invoice = energy_invoice()
    customer = invoice.customer
    login(client, customer)
    overview = client.get("/overview").get_data(as_text=True)
    assert f'href="/dispute?invoice={invoice.number}"' in overview

    response = _dispute_line(client, invoice, files=[(io.BytesIO(photo_with_location()), "IMG_0001.JPG")])

    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    dispute = session.scalars(select(Dispute).where(Dispute.customer_id == customer.id)).one()
    assert "We have received your question and will answer by" in page
    assert "Vastrecht" in page and "IMG_0001.jpg" in page
    # The overview says what is on hold, and the pay page asks for the rest only.
    overview = text_of(client.get("/overview").get_data(as_text=True))
    assert f"On hold: your question {dispute.reference}" in overview
    assert "Of this, € 12,10 is on hold" in overview or "Of this, €12.10 is on hold" in overview
    pay = client.get("/pay").get_data(as_text=True)
    assert 'data-cents="5445"' in pay
    assert "is on hold while we look into your question; you pay the rest" in text_of(pay)
    with app.app_context():
        assert choose_invoices(session, customer, [invoice.number]).amount_cents == 6655 - 1210
    # The confirmation e-mail opens the dispute's page.
    [received] = messages(session, customer, "dispute_received")
    assert "next=%2Fdispute%2F" in received.body_text


def test_the_photo_is_kept_without_its_location_and_only_its_owner_can_download_it(
    client, session, login, energy_invoice, create_customer
) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    response = _dispute_line(client, invoice, files=[(io.BytesIO(photo_with_location()), "../../etc/IMG.jpg")])
    assert response.status_code == 303
    stored = session.scalars(select(DisputeFile)).all()[-1]
    assert stored.filename == "IMG.jpg"
    url = f"/dispute/{stored.dispute_id}/files/{stored.id}"

    download = client.get(url)

    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"] == "image/jpeg"
    kept = Image.open(io.BytesIO(download.data))
    assert MAKE not in kept.getexif() and 0x8825 not in kept.getexif()
    # Another debtor does not learn that it exists.
    login(client, create_customer())
    assert client.get(url).status_code == 404
    assert client.get(f"/dispute/{stored.dispute_id}").status_code == 404


def test_a_refused_file_keeps_nothing_and_says_why(client, session, login, energy_invoice, file_store) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    before = session.scalar(select(func.count()).select_from(Dispute))

    response = _dispute_line(client, invoice, files=[(io.BytesIO(b"<html><script>x</script>"), "photo.jpg")])

    assert response.status_code == 400
    assert "PDF, JPEG or PNG" in text_of(response.get_data(as_text=True))
    assert session.scalar(select(func.count()).select_from(Dispute)) == before
    # Nothing was paused either: the debtor is asked to try again.
    assert "On hold" not in text_of(client.get("/overview").get_data(as_text=True))


def test_four_files_are_too_many(client, session, login, energy_invoice) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    files = [(io.BytesIO(small_pdf()), f"scan{n}.pdf") for n in range(4)]
    response = _dispute_line(client, invoice, files=files)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(DisputeFile).where(DisputeFile.filename.like("scan%"))) == 0


def test_a_double_click_opens_one_dispute(client, session, login, energy_invoice) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    html = _form(client, invoice)
    data = {"csrf_token": token_on(html), "invoice": invoice.number, "reason": "not_received", "explanation": "x"}
    first = client.post("/dispute", data=data)
    second = client.post("/dispute", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert (
        session.scalar(select(func.count()).select_from(Dispute).where(Dispute.customer_id == invoice.customer_id)) == 1
    )


def test_the_debtor_writes_back_with_a_file_and_can_withdraw(client, session, login, energy_invoice) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    location = _dispute_line(client, invoice).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    dispute_id = int(re.search(r"/dispute/(\d+)", location).group(1))

    reply = client.post(
        f"/dispute/{dispute_id}/reply",
        data={
            "csrf_token": token_on(page),
            "body": "Here is the <b>reading</b>.",
            "files": [(io.BytesIO(small_pdf()), "meter.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 303
    page = client.get(location).get_data(as_text=True)
    assert "Here is the &lt;b&gt;reading&lt;/b&gt;." in page
    assert "meter.pdf" in page
    empty = client.post(f"/dispute/{dispute_id}/reply", data={"csrf_token": token_on(page), "body": "  "})
    assert empty.status_code == 400 and "Write a message, or add a file." in text_of(empty.get_data(as_text=True))

    withdrawn = client.post(f"/dispute/{dispute_id}/withdraw", data={"csrf_token": token_on(page)})
    assert withdrawn.status_code == 303
    assert "You withdrew this question." in text_of(client.get(location).get_data(as_text=True))
    assert 'data-cents="6655"' in client.get("/pay").get_data(as_text=True)


def test_odd_line_ids_are_ignored_not_a_500(client, session, login, energy_invoice) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    html = _form(client, invoice)
    data = {
        "csrf_token": token_on(html),
        "invoice": invoice.number,
        "line": ["²", "9" * 5000, "-1"],
        "reason": "other",
        "explanation": "x",
    }
    response = client.post("/dispute", data=data)
    assert response.status_code == 303  # the whole invoice, as no real line was chosen


def _noisy_png(size: int) -> bytes:
    """A photo-sized PNG that compresses badly: several megabytes, as a phone's screenshot of a scan can be."""
    import os

    image = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def test_three_large_files_together_are_accepted_above_the_site_wide_request_limit(
    client, session, login, energy_invoice, app
) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    big = _noisy_png(1150)  # about 4 MB each: 12 MB together, above the 10 MB other forms may send
    assert 3_500_000 < len(big) <= 5 * 1024 * 1024 and 3 * len(big) > app.config["MAX_CONTENT_LENGTH"]

    html = _form(client, invoice)
    line = next(line for line in invoice.lines if line.position == 2)
    fields = MultiDict(
        [("csrf_token", token_on(html)), ("invoice", invoice.number), ("line", str(line.id))]
        + [("reason", "amount_wrong"), ("explanation", "Three pages of my contract.")]
        + [("files", FileStorage(io.BytesIO(big), filename=f"page{n}.png")) for n in range(3)]
    )
    # Encoded in memory: the test client would spool a body this large to a temporary file it never closes.
    boundary, body = encode_multipart(fields)
    response = client.post("/dispute", data=body, content_type=f"multipart/form-data; boundary={boundary}")

    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    kept = session.scalars(select(DisputeFile).where(DisputeFile.filename.like("page%"))).all()
    assert sorted(file.filename for file in kept) == ["page0.png", "page1.png", "page2.png"]


def test_after_paying_the_rest_the_thank_you_says_the_disputed_part_need_not_be_paid_now(
    client, session, login, energy_invoice, dispute_on
) -> None:
    invoice = energy_invoice(number="E-1")
    other = energy_invoice(invoice.customer, number="E-2")
    dispute_on(invoice, lines=[2])  # Vastrecht, 12,10 on hold
    login(client, invoice.customer)
    started = start_payment(client, [invoice.number, other.number])
    assert started.status_code == 303
    checkout = started.headers["Location"].removeprefix("http://localhost")
    back = client.post(f"{checkout}/paid", data={"csrf_token": token_on(client.get(checkout).get_data(as_text=True))})
    page = text_of(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    assert "What is still open" in page
    assert "€12.10 is on hold while we look into your question. You do not need to pay that now." in page
    assert "Pay the rest" not in page, "nothing else is asked for"


def test_a_missed_answer_date_is_owned_up_to_not_promised_in_the_past(
    client, session, login, energy_invoice, dispute_on
) -> None:
    invoice = energy_invoice()
    dispute = dispute_on(invoice, lines=[2])
    due = dispute.first_response_due_on
    with time_machine.travel(datetime.combine(due + timedelta(days=2), time(12), tzinfo=UTC), tick=False):
        login(client, invoice.customer)
        overview = text_of(client.get("/overview").get_data(as_text=True))
        page = text_of(client.get(f"/dispute/{dispute.id}").get_data(as_text=True))
    late = f"We meant to answer by {due.day} {due:%B %Y} and are late, sorry"
    assert late in overview and late in page
    assert "will answer by" not in overview and "will answer by" not in page


def test_a_missed_decision_date_is_owned_up_to_as_well(client, session, login, energy_invoice, dispute_on) -> None:
    invoice = energy_invoice()
    dispute = dispute_on(invoice, lines=[2])
    session.get(Dispute, dispute.id).status = "in_progress"  # staff answered and are looking into it
    session.commit()
    due = dispute.resolution_due_on
    with time_machine.travel(datetime.combine(due + timedelta(days=1), time(12), tzinfo=UTC), tick=False):
        login(client, invoice.customer)
        page = text_of(client.get(f"/dispute/{dispute.id}").get_data(as_text=True))
    assert f"We meant to decide by {due.day} {due:%B %Y} and are late, sorry" in page
    assert "You will have our decision by" not in page


def test_the_dispute_page_offers_to_pay_the_rest_only_when_there_is_a_rest(
    client, session, login, energy_invoice, dispute_on, in_app
) -> None:
    whole = energy_invoice(number="W-1")
    part = energy_invoice(whole.customer, number="W-2")
    on_whole, on_line = dispute_on(whole), dispute_on(part, lines=[2])
    login(client, whole.customer)
    assert "Pay the rest" not in text_of(client.get(f"/dispute/{on_whole.id}").get_data(as_text=True))
    assert "can be paid as usual. Pay the rest" in text_of(client.get(f"/dispute/{on_line.id}").get_data(as_text=True))


def test_a_form_left_half_empty_says_everything_missing_at_once_and_asks_for_the_files_again(
    client, session, login, energy_invoice
) -> None:
    invoice = energy_invoice()
    login(client, invoice.customer)
    html = _form(client, invoice)
    data = {
        "csrf_token": token_on(html),
        "explanation": "  ",
        "files": [(io.BytesIO(small_pdf()), "meter.pdf")],
    }
    response = client.post("/dispute", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary, "an error summary at the top"
    assert '<a href="#invoice">Choose the invoice or invoices that something is wrong with.</a>' in summary.group(0)
    assert '<a href="#reason">Choose what is wrong.</a>' in summary.group(0)
    assert '<a href="#explanation">Tell us in a few words what is wrong' in summary.group(0)
    assert '<p class="error" id="reason-error">Choose what is wrong.</p>' in page
    assert 'aria-invalid="true"' in page and "explanation-error" in page
    assert "Your question was not sent, so neither were your files: add them again." in page
    assert session.scalar(select(func.count()).select_from(Dispute)) == 0
