"""Django looks here for admin registrations; the review console itself lives in monitoring.review.console."""

from monitoring.review import console  # noqa: F401 - registers the console's ModelAdmins
