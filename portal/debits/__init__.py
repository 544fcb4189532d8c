"""SEPA direct debit the debtor controls: mandates, collection schedules, debits, and moving the collection day.

``rules`` holds the date rules (pure functions, the same for every page, the staff area and the CLI);
``services`` applies them to the database; ``collectors`` hand due debits to whoever collects them (the
creditor's own bank through a pain.008 file, Mollie, Stripe, or the demo).
"""
