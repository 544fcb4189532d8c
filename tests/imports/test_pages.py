"""The staff pages: upload, preview, import in the background, and who may use them."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from portal.audit.models import AuditEvent
from portal.customers.models import Customer
from portal.imports import jobs
from portal.imports.models import ImportJob
from tests.fixtures.factories import csrf_token
from tests.imports.helpers import DATA, EXAMPLES

ENGLISH = {"Accept-Language": "en"}


def upload(client, kind: str, content: bytes, filename: str = "file.csv"):
    file = FileStorage(io.BytesIO(content), filename=filename, content_type="text/csv")
    data = {"kind": kind, "file": file, "csrf_token": csrf_token(client, "/staff/imports/")}
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    stream, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post(
        "/staff/imports/",
        input_stream=stream,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def wait_for(job_id: int, seconds: float = 10.0) -> None:
    """The import runs in a background thread; wait (a bounded while) until it has ended."""
    deadline = time.monotonic() + seconds
    while jobs.is_running_here(job_id):
        assert time.monotonic() < deadline, "the import did not end in time"
        time.sleep(0.02)


@pytest.fixture()
def supervisor(client, staff_login):
    return staff_login(client, "supervisor", language="en")


def test_upload_preview_import_and_done(client, supervisor, session):
    response = upload(client, "customers", (EXAMPLES / "customers.csv").read_bytes(), "customers.csv")
    assert response.status_code == 302
    job_path = response.headers["Location"]

    preview = client.get(job_path).get_data(as_text=True)
    assert "Import of customers.csv" in preview
    assert "UTF-8, separated by commas" in preview
    assert "6 new, 0 updated, 0 unchanged." in preview
    assert "Eetcafé De Zwaan" in preview
    assert session.scalar(select(func.count()).select_from(Customer)) == 0, "the preview writes nothing"

    job_id = int(job_path.rsplit("/", 1)[1])
    response = client.post(f"{job_path}/run", data={"csrf_token": csrf_token(client, job_path)})
    assert response.status_code == 302
    wait_for(job_id)

    result = client.get(job_path).get_data(as_text=True)
    assert "Imported. Everything in the file is now in the portal." in result
    assert session.scalar(select(func.count()).select_from(Customer)) == 6
    job = session.get(ImportJob, job_id)
    assert (job.state, job.processed_rows, job.total_rows) == ("done", 6, 6)
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("import.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["import.previewed", "import.completed"]

    again = upload(client, "customers", (EXAMPLES / "customers.csv").read_bytes(), "customers.csv")
    assert "0 new, 0 updated, 6 unchanged." in client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Nothing changes: everything in this file is already in the portal." in client.get(
        again.headers["Location"]
    ).get_data(as_text=True)


def test_a_preview_with_errors_names_row_column_and_problem_and_offers_no_import(client, supervisor, session):
    response = upload(client, "customers", (DATA / "customers_one_bad_row.csv").read_bytes())
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "1 error: nothing will be imported" in page
    assert '<td class="num">4</td>' in page and "“cor(at)example.nl” is not a valid e-mail address." in page
    assert ">Import</button>" not in page

    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    run = client.post(f"/staff/imports/{job_id}/run", data={"csrf_token": csrf_token(client, "/staff/imports/")})
    assert run.status_code == 302
    assert session.get(ImportJob, job_id).state == "previewed"
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_windows_1252_file_says_which_encoding_was_used(client, supervisor):
    response = upload(client, "customers", (DATA / "customers_excel_nl.csv").read_bytes())
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Windows-1252, separated by semicolons" in page
    assert "This file is not in UTF-8, so it was read as Windows-1252" in page
    assert "Joëlle Maréchal" in page


def test_the_progress_fragment_polls_while_running_and_reloads_the_page_at_the_end(client, supervisor, session):
    job = ImportJob(kind="customers", filename="big.csv", content=b"", state="running", total_rows=1000, created_by="x")
    session.add(job)
    session.commit()

    page = client.get(f"/staff/imports/{job.id}").get_data(as_text=True)
    assert f'hx-get="/staff/imports/{job.id}/progress"' in page and 'hx-trigger="every 1s"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page, "works without JavaScript"
    assert "htmx-2.0.4.min.js" in page

    session.get(ImportJob, job.id).state = "done"  # re-read: the request closed the session it was loaded in
    session.commit()
    fragment = client.get(f"/staff/imports/{job.id}/progress", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Refresh"] == "true"
    assert "htmx-2.0.4.min.js" not in client.get(f"/staff/imports/{job.id}").get_data(as_text=True)


def test_an_upload_without_its_csrf_token_is_refused(client, supervisor, session):
    response = client.post(
        "/staff/imports/",
        data={"kind": "customers", "file": (io.BytesIO(b"external_ref\n1\n"), "a.csv")},
        content_type="multipart/form-data",
        headers=ENGLISH,
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_the_form_asks_for_a_kind_and_a_file(client, supervisor):
    response = client.post(
        "/staff/imports/", data={"csrf_token": csrf_token(client, "/staff/imports/")}, headers=ENGLISH
    )
    page = response.get_data(as_text=True)
    assert "Choose what is in the file." in page and "Choose a CSV file." in page


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_agents_and_viewers_may_not_import(client, staff_login, session, role):
    staff_login(client, role)
    job = ImportJob(kind="customers", filename="c.csv", content=b"", created_by="x", summary={"error_count": 0})
    session.add(job)
    session.commit()
    token = csrf_token(client, "/staff/account")
    assert client.get("/staff/imports/").status_code == 403
    assert client.get(f"/staff/imports/{job.id}").status_code == 403
    assert client.get(f"/staff/imports/{job.id}/progress").status_code == 403
    assert client.post(f"/staff/imports/{job.id}/run", data={"csrf_token": token}).status_code == 403
    refused = client.post(
        "/staff/imports/",
        data={"kind": "customers", "file": (io.BytesIO(b"x"), "a.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 1


def test_a_job_whose_file_has_errors_at_import_time_ends_failed_and_imports_nothing(client, supervisor, session, app):
    """The database may change between the preview and the import; the import checks again."""
    content = b"customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate\n"
    content += b"K-1,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21\n"
    job = ImportJob(kind="invoices", filename="late.csv", content=content, created_by="x", summary={"error_count": 0})
    session.add(job)
    session.commit()
    job_id = job.id
    with app.app_context():
        jobs.run_import_job(job_id)

    job = session.get(ImportJob, job_id)
    assert (job.state, job.processed_rows) == ("failed", 0)
    page = client.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    assert "1 error: nothing was imported" in page
    assert "There is no customer with the reference K-1. Import the customers first." in page
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("import.%"))).all() == [
        "import.failed"
    ]


def test_an_unexpected_error_during_the_import_is_recorded_and_nothing_is_imported(
    client, supervisor, session, app, monkeypatch
):
    job = ImportJob(
        kind="customers",
        filename="c.csv",
        content=(EXAMPLES / "customers.csv").read_bytes(),
        created_by="x",
        summary={"error_count": 0},
    )
    session.add(job)
    session.commit()
    job_id = job.id

    def broken_write(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("portal.imports.customers.update", broken_write)
    monkeypatch.setattr("portal.imports.customers.insert", broken_write)
    with app.app_context():
        jobs.run_import_job(job_id)

    assert session.get(ImportJob, job_id).state == "failed"
    assert session.scalar(select(func.count()).select_from(Customer)) == 0
    page = client.get(f"/staff/imports/{job_id}").get_data(as_text=True)
    assert "The import stopped because of an unexpected error. Nothing was imported." in page
    assert "disk full" not in page


def test_a_file_over_the_upload_limit_is_refused_with_a_message(client, supervisor, session, monkeypatch):
    monkeypatch.setattr("portal.imports.views.MAX_UPLOAD_BYTES", 2**20)
    response = upload(client, "customers", b"x" * (2**20 + 1))
    assert response.status_code == 413
    assert "The file is larger than 1 MB. Import it in parts." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_a_file_over_flasks_general_limit_but_under_the_import_limit_is_accepted(client, supervisor, app, monkeypatch):
    """The application's limit stays small; an import file of 100,000 invoice lines is about 11 MB."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    content = "external_ref,name,email,language,kind,country\n"
    content += "".join(f"C-{n},Person {n},p{n}@example.nl,nl,consumer,NL\n" for n in range(3000))
    assert len(content) > 2 * 64 * 1024
    response = upload(client, "customers", content.encode())
    assert response.status_code == 302
    assert "3,000 new, 0 updated, 0 unchanged." in client.get(response.headers["Location"]).get_data(as_text=True)
