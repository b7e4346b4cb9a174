"""Django looks here for admin registrations; the review console lives in monitoring.review.console,
the notifications' pages in monitoring.notify.admin."""

from monitoring.notify import admin as notify_admin  # noqa: F401 - registers webhooks, deliveries, emails
from monitoring.review import console  # noqa: F401 - registers the console's ModelAdmins
