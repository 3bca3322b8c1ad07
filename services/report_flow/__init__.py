"""Field reports: submission and routing, the officials' steps, the citizen's answer to a fix,
following, merging, moderation, and the closing of fixes nobody answered.

Every step: a transaction, the report's row locked, the move checked against
``REPORT_TRANSITIONS``, the change saved, one timeline event, and the messages to the reporter,
the followers and the officials written in the same transaction (``transitions``).
"""

from services.report_flow.citizens import (
    REACTABLE,
    report_confirm,
    report_dispute,
    report_follow,
    report_follows_erase,
    report_react,
    report_unfollow,
    reports_close_unconfirmed,
)
from services.report_flow.officials import (
    report_accept,
    report_close_not_fixed,
    report_merge,
    report_moderate,
    report_refuse,
    report_resolve,
    report_start,
    report_transfer,
)
from services.report_flow.submission import (
    MAX_CENTROID_DISTANCE_M,
    Located,
    report_locate,
    report_submit,
)

__all__ = [
    "MAX_CENTROID_DISTANCE_M",
    "REACTABLE",
    "Located",
    "report_accept",
    "report_close_not_fixed",
    "report_confirm",
    "report_dispute",
    "report_follow",
    "report_follows_erase",
    "report_locate",
    "report_merge",
    "report_moderate",
    "report_react",
    "report_refuse",
    "report_resolve",
    "report_start",
    "report_submit",
    "report_transfer",
    "report_unfollow",
    "reports_close_unconfirmed",
]
