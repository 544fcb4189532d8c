"""Demo data for the energy supplier "Zonnig Energie": twenty customers with a year of invoices.

The customers pay the way real debtors do: always on time, sometimes late, structurally late, a new
customer, one in difficulty, and a business billed quarterly. Everything comes from one seeded random
generator, so the data is the same for the same ``today``.

Each customer is billed on their own day of the month (as Dutch energy suppliers do), chosen so the latest
invoice was issued 1-9 days before ``today``: whatever the date, most customers have one open invoice that
is not yet due, next to their history. Money is Decimal and integer cents, never floats.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.disputes.demo_data import add_unanswered_dispute
from portal.events import emit, emit_many
from portal.invoices import events as invoice_events
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.payments.demo_history import add_demo_payments

ON_TIME, SOMETIMES_LATE, STRUCTURALLY_LATE = "on-time", "sometimes-late", "structurally-late"
NEW, DIFFICULTY, QUARTERLY = "new", "difficulty", "business-quarterly"

# name, kind, language, payment profile, street, postal code, city, country
PROFILES: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("Sanne de Vries", "consumer", "nl", ON_TIME, "Kerkstraat 12", "1017 GC", "Amsterdam", "NL"),
    ("James Whitfield", "consumer", "en", ON_TIME, "Prinsengracht 263", "1016 GV", "Amsterdam", "NL"),
    ("Femke Jansen", "consumer", "nl", ON_TIME, "Oudegracht 145", "3511 AZ", "Utrecht", "NL"),
    ("Pieter Bakker", "consumer", "nl", ON_TIME, "Molenweg 8", "6711 BD", "Ede", "NL"),
    ("Lotte Peeters", "consumer", "nl", ON_TIME, "Meir 34", "2000", "Antwerpen", "BE"),
    ("Emily Carter", "consumer", "en", ON_TIME, "Laan van Meerdervoort 512", "2563 BC", "Den Haag", "NL"),
    ("Henk Visser", "consumer", "nl", ON_TIME, "Dorpsstraat 3", "9751 NA", "Haren", "NL"),
    ("Noor El Amrani", "consumer", "nl", SOMETIMES_LATE, "Kanaalweg 44", "3526 KM", "Utrecht", "NL"),
    ("Daan Mulder", "consumer", "nl", SOMETIMES_LATE, "Stationsweg 19", "9726 AC", "Groningen", "NL"),
    ("Priya Sharma", "consumer", "en", SOMETIMES_LATE, "Wilhelminapark 7", "5041 EB", "Tilburg", "NL"),
    ("Kapsalon Knip & Co", "business", "nl", SOMETIMES_LATE, "Hoogstraat 88", "3011 PT", "Rotterdam", "NL"),
    ("Wouter Janssens", "consumer", "nl", SOMETIMES_LATE, "Veldstraat 56", "9000", "Gent", "BE"),
    ("Anouk Smit", "consumer", "nl", SOMETIMES_LATE, "Beukenlaan 21", "5616 VD", "Eindhoven", "NL"),
    ("Kevin Bos", "consumer", "nl", STRUCTURALLY_LATE, "Groen van Prinstererlaan 15", "3136 HX", "Vlaardingen", "NL"),
    ("Oliver Bennett", "consumer", "en", STRUCTURALLY_LATE, "Vondelstraat 102", "1054 GR", "Amsterdam", "NL"),
    (
        "Van Dijk Installatietechniek B.V.",
        "business",
        "nl",
        STRUCTURALLY_LATE,
        "Edisonstraat 14",
        "7575 AT",
        "Oldenzaal",
        "NL",
    ),
    ("Esra Yilmaz", "consumer", "nl", STRUCTURALLY_LATE, "Hertogstraat 31", "6511 RV", "Nijmegen", "NL"),
    ("Sarah O'Connor", "consumer", "en", NEW, "Breestraat 70", "2311 CS", "Leiden", "NL"),
    ("Marco van den Berg", "consumer", "nl", DIFFICULTY, "Parkstraat 17", "4818 SJ", "Breda", "NL"),
    ("Bakkerij De Korenaar B.V.", "business", "nl", QUARTERLY, "Brink 45", "7411 BV", "Deventer", "NL"),
]
# The billing system prints units in the customer's language, as it does the descriptions.
DUTCH_UNITS = {"month": "maand", "quarter": "kwartaal"}
# This customer's latest invoice covers a month of unusually high usage: clearly above the usual amount.
HIGH_LATEST = "Pieter Bakker"

VAT_HIGH, VAT_LOW = Decimal("21.00"), Decimal("9.00")
# key: Dutch text, English text, unit, unit price (EUR), VAT rate
LINE_KINDS: dict[str, tuple[str, str, str, Decimal, Decimal]] = {
    "normal": ("Stroom normaal tarief", "Electricity normal rate", "kWh", Decimal("0.27350"), VAT_HIGH),
    "low": ("Stroom dal tarief", "Electricity off-peak rate", "kWh", Decimal("0.25120"), VAT_HIGH),
    "gas": ("Gas", "Gas", "m³", Decimal("1.28760"), VAT_HIGH),
    "fixed": ("Vaste leveringskosten", "Fixed supply charge", "month", Decimal("6.99000"), VAT_HIGH),
    "grid": ("Netbeheerkosten", "Network charges", "month", Decimal("41.37000"), VAT_HIGH),
    "tax": ("Vermindering energiebelasting", "Energy tax reduction", "month", Decimal("-52.06000"), VAT_HIGH),
    "solar": (
        "Onderhoudscontract zonnepanelen",
        "Solar panel maintenance contract",
        "quarter",
        Decimal("89.00000"),
        VAT_LOW,
    ),
}
# Usage per calendar month relative to an average month (index 1 = January): gas is mostly winter.
GAS_SEASON = (0.0, 1.9, 1.7, 1.4, 0.9, 0.5, 0.25, 0.2, 0.2, 0.35, 0.8, 1.3, 1.7)
POWER_SEASON = (0.0, 1.2, 1.1, 1.0, 0.9, 0.85, 0.8, 0.8, 0.8, 0.9, 1.0, 1.15, 1.25)
KWH_PER_MONTH, M3_PER_MONTH = 230, 105
ONE = Decimal("1")


def load_demo_data(session: Session, *, today: date) -> bool:
    """Insert the demo customers and invoices unless there are customers already; the caller commits.

    Returns False (and changes nothing) when any customer exists, True after inserting and flushing.
    """
    if session.scalar(select(Customer.id).limit(1)) is not None:
        return False
    rng = random.Random(2026)  # noqa: S311 - demo data, not a secret
    invoices: list[Invoice] = []
    for index, row in enumerate(PROFILES):
        customer = _customer(row, f"C-{1001 + index}", rng)
        session.add(customer)
        invoices.extend(_invoices_for(customer, row[3], today, rng))
    # Numbers follow issue order, as a billing system would hand them out.
    invoices.sort(key=lambda invoice: (invoice.issue_date, invoice.customer.external_ref))
    for sequence, invoice in enumerate(invoices, start=101):
        invoice.number = f"{invoice.issue_date.year}-{sequence:06d}"
        invoice.external_ref = f"INV-{invoice.number}"
        session.add(invoice)
    session.flush()
    demo = Actor(type="system", id="demo")
    emit_many(session, (invoice_events.issued(invoice, demo) for invoice in invoices))
    emit_many(
        session,
        (invoice_events.paid(i, demo, by="portal", at=i.paid_at) for i in invoices if i.paid_at is not None),
    )
    add_demo_payments(session, invoices)
    _add_direct_debits(session, today, demo, invoices)
    add_unanswered_dispute(session, today, demo, invoices)
    return True


def _customer(row: tuple[str, str, str, str, str, str, str, str], ref: str, rng: random.Random) -> Customer:
    name, kind, language, _profile, street, postal_code, city, country = row
    domain = "example.be" if country == "BE" else "example.com" if language == "en" else "example.nl"
    return Customer(
        external_ref=ref,
        name=name,
        email=f"{_email_local_part(name)}@{domain}",
        phone=_phone(country, kind, rng),
        language=language,
        kind=kind,
        country=country,
        street=street,
        postal_code=postal_code,
        city=city,
        time_zone="Europe/Brussels" if country == "BE" else "Europe/Amsterdam",
    )


def _email_local_part(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name.replace("B.V.", "")).encode("ascii", "ignore").decode()
    words = ("".join(ch for ch in word if ch.isalnum()) for word in ascii_name.lower().split())
    return ".".join(word for word in words if word)


def _phone(country: str, kind: str, rng: random.Random) -> str:
    if country == "BE":
        return f"+32 4{rng.randint(70, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    if kind == "business":
        return f"+31 85 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return f"+31 6 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def _invoices_for(customer: Customer, profile: str, today: date, rng: random.Random) -> list[Invoice]:
    """A year of invoices for one customer, paid (or not) the way their profile pays."""
    step = 3 if profile == QUARTERLY else 1
    count = {NEW: 1, QUARTERLY: 4}.get(profile, 12)
    issues = _issue_dates(today, step, count, rng)
    if profile == QUARTERLY:
        size = 8.0
    else:
        size = rng.uniform(2.0, 3.0) if customer.kind == "business" else rng.uniform(0.6, 1.5)
    delays = _pay_delays(profile, count, rng)
    if customer.name == HIGH_LATEST:
        delays[-1] = None  # the big one is still open, so the portal has something to explain
    category = "energy-quarterly" if profile == QUARTERLY else "energy-monthly"
    invoices = []
    for index, issue in enumerate(issues):
        start = _add_months(issue, -step)
        boost = 2.4 if customer.name == HIGH_LATEST and index == count - 1 else 1.0
        lines = _energy_lines(customer.language, start, step, size * boost, profile == QUARTERLY, rng)
        invoices.append(_invoice(customer, category, issue, start, lines, delays[index], today, rng))
    customer.created_at = _utc(issues[0] - timedelta(days=rng.randint(10, 40)), rng)
    return invoices


def _issue_dates(today: date, step: int, count: int, rng: random.Random) -> list[date]:
    """`count` issue dates `step` months apart, the latest 1-9 days (at most 12 after clamping) before today."""
    latest = today - timedelta(days=rng.randint(1, 9))
    latest = latest.replace(day=min(latest.day, 28))
    return [_add_months(latest, -step * back) for back in reversed(range(count))]


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, 28))


def _pay_delays(profile: str, count: int, rng: random.Random) -> list[int | None]:
    """Days after the due date each invoice gets paid (negative: before it); None: not paid at all."""
    if profile == STRUCTURALLY_LATE:
        return [rng.randint(20, 60) for _ in range(count)]
    if profile == DIFFICULTY:
        # Slipping further each month, then nothing for the last six invoices.
        return [3 * index + rng.randint(0, 6) if index < count - 6 else None for index in range(count)]
    if profile == NEW:
        return [0] * count  # will pay on the due date, which has not come yet
    if profile == QUARTERLY:
        return [rng.randint(-3, 8) for _ in range(count)]
    late = set(rng.sample(range(count - 1), rng.randint(2, 3))) if profile == SOMETIMES_LATE else set()
    return [rng.randint(5, 30) if index in late else -rng.randint(1, 5) for index in range(count)]


def _energy_lines(
    language: str, start: date, months: int, size: float, business: bool, rng: random.Random
) -> list[InvoiceLine]:
    """Lines for a service period of `months` months from `start`; usage follows the seasons."""
    seasons = [(_add_months(start, offset) + timedelta(days=14)).month for offset in range(months)]
    kwh = sum(KWH_PER_MONTH * POWER_SEASON[month] for month in seasons) * size * rng.uniform(0.92, 1.08)
    gas = sum(M3_PER_MONTH * GAS_SEASON[month] for month in seasons) * size * rng.uniform(0.9, 1.1)
    specs: list[tuple[str, float]] = [
        ("normal", kwh * 0.55),
        ("low", kwh * 0.45),
        ("gas", gas),
        ("fixed", months),
        ("grid", months),
        ("tax", months),
    ]
    if business:
        specs.append(("solar", 1))
    return [_line(key, quantity, language, position) for position, (key, quantity) in enumerate(specs, start=1)]


def _line(key: str, quantity: float, language: str, position: int) -> InvoiceLine:
    dutch, english, unit, unit_price, vat_rate = LINE_KINDS[key]
    exact_quantity = Decimal(f"{quantity:.3f}")
    return InvoiceLine(
        position=position,
        description=english if language == "en" else dutch,
        quantity=exact_quantity,
        unit=unit if language == "en" else DUTCH_UNITS.get(unit, unit),
        unit_price=unit_price,
        vat_rate=vat_rate,
        amount_cents=_cents(exact_quantity * unit_price * 100),
    )


def _cents(amount: Decimal) -> int:
    return int(amount.quantize(ONE, rounding=ROUND_HALF_UP))


def _vat_totals(lines: list[InvoiceLine]) -> list[InvoiceVatTotal]:
    bases: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        bases[line.vat_rate] += line.amount_cents
    return [
        InvoiceVatTotal(rate=rate, base_cents=base, vat_cents=_cents(Decimal(base) * rate / 100))
        for rate, base in sorted(bases.items())
    ]


def _invoice(
    customer: Customer,
    category: str,
    issue: date,
    start: date,
    lines: list[InvoiceLine],
    delay: int | None,
    today: date,
    rng: random.Random,
) -> Invoice:
    """An invoice due 14 days after issue; paid only if the profile's pay date lies before today."""
    due = issue + timedelta(days=14)
    vat_totals = _vat_totals(lines)
    subtotal = sum(line.amount_cents for line in lines)
    vat = sum(total.vat_cents for total in vat_totals)
    paid_on = None if delay is None else due + timedelta(days=delay)
    paid = paid_on is not None and paid_on < today
    return Invoice(
        customer=customer,
        number="",
        category=category,
        issue_date=issue,
        due_date=due,
        period_start=start,
        period_end=issue - timedelta(days=1),
        currency="EUR",
        subtotal_cents=subtotal,
        vat_cents=vat,
        total_cents=subtotal + vat,
        state="paid" if paid else "open",
        paid_at=_utc(paid_on, rng) if paid and paid_on else None,
        created_at=_utc(issue, rng, hour=6),
        lines=lines,
        vat_totals=vat_totals,
    )


def _utc(day: date, rng: random.Random, hour: int | None = None) -> datetime:
    """A moment on `day` (UTC): at `hour`, or during the day at random."""
    chosen_hour = rng.randint(7, 20) if hour is None else hour
    return datetime(day.year, day.month, day.day, chosen_hour, rng.randint(0, 59), tzinfo=UTC)


# Customers on direct debit, all on the 1st: (reference, the account they pay from, who collects). C-1009's
# account is one the demo bank refuses for lack of money (AM04), so ``flask --app portal debits collect`` shows
# a failed debit and what follows it; C-1013 is the one who moves her day in the demo; C-1008's debits go
# through the creditor's own bank, so Bank files has a pain.008 file to download.
DIRECT_DEBIT_DAY = 1


def _direct_debit_customers() -> list[tuple[str, str, str]]:
    from schwifty import IBAN

    from portal.debits.collectors import DEMO_FAILING_IBANS

    not_enough_money = next(iban for iban, code in DEMO_FAILING_IBANS.items() if code == "AM04")
    return [
        ("C-1013", str(IBAN.generate("NL", bank_code="INGB", account_code="0006501234")), "demo"),
        ("C-1010", str(IBAN.generate("NL", bank_code="RABO", account_code="0308471552")), "demo"),
        ("C-1009", not_enough_money, "demo"),
        ("C-1008", str(IBAN.generate("NL", bank_code="ABNA", account_code="0417164300")), "bank"),
    ]


def _add_direct_debits(session: Session, today: date, actor: Actor, invoices: list[Invoice]) -> None:
    """Put a few customers on direct debit: each one's latest open invoice is announced for collection on the
    most recent TARGET day (so the next ``debits collect`` collects it at once), and later months follow."""
    from portal.business_calendar import is_target_day
    from portal.debits import events as debit_events
    from portal.debits import rules
    from portal.debits.mandates import create_mandate, create_schedule
    from portal.debits.models import Debit

    collect_on = today
    while not is_target_day(collect_on):
        collect_on -= timedelta(days=1)
    for ref, iban, collector in _direct_debit_customers():
        customer = session.scalars(select(Customer).where(Customer.external_ref == ref)).one()
        latest = max(
            (invoice for invoice in invoices if invoice.customer is customer and invoice.state == "open"),
            key=lambda invoice: (invoice.issue_date, invoice.id),
        )
        mandate = create_mandate(
            session,
            customer,
            reference=f"ZE-{ref}-01",
            signed_on=customer.created_at.date(),
            debtor_name=customer.name,
            iban=iban,
            collector=collector,
            actor=actor,
        )
        period = rules.period_of(collect_on)
        schedule = create_schedule(
            session,
            mandate,
            day_of_month=DIRECT_DEBIT_DAY,
            amount_cents=latest.total_cents,
            first_period=period,
            actor=actor,
        )
        debit = Debit(
            schedule=schedule,
            customer_id=customer.id,
            period=period,
            due_on=collect_on,
            amount_cents=latest.outstanding_cents,
            currency=latest.currency,
            state="notified",
            invoice_id=latest.id,
        )
        session.add(debit)
        session.flush()
        emit(session, debit_events.about_debit(debit_events.NOTIFIED, debit, actor))
