"""The account view: the one definition of what a customer owes, what is overdue, their credit, and
whether dunning is paused for an invoice and why. Pages, the dashboard, the staff area, the dunning run
and the API all read these expressions instead of adding up invoices themselves."""
