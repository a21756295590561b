"""What a background job says to its user: the steps of the progress bar and, for a failed job,
a sentence in the user's language naming what failed, with the technical message as its detail.

A failed job's row keeps both in its ``message`` column as ``[what] detail``
(:func:`failure_text`): ``what`` is the step that was running (``import``, ``start`` or a
scoring step of :data:`tillage.services.scoring.STEPS`), ``interrupted`` (its process was gone,
:func:`tillage.services.jobs.reap`) or ``stopped`` (its process ended without recording an end);
``detail`` is the error's own message, often English, shown beside the sentence for whoever
fixes the cause. A row written before this form has no ``[what]``: its whole message is the
detail.
"""

from __future__ import annotations

import re

from tillage.i18n import gettext_for

__all__ = ["failure_parts", "failure_sentence", "failure_text", "step_labels"]

_FAILURE = re.compile(r"\[([a-z_]+)\] ?(.*)\Z", re.DOTALL)


def step_labels(lang: str, *, detailed: bool = False) -> dict[str, str]:
    """Each step a job reports (:data:`tillage.services.scoring.STEPS`, ``start``, ``import``)
    in ``lang``: the one table of their names. Short (what the step is doing) for the Data
    page's progress bar and a failure's sentence; ``detailed`` (what the step computes) for the
    progress line of ``tillage score`` and ``tillage demo``."""
    _ = gettext_for(lang)
    names = {  # step: (short, detailed)
        "start": (_("Starting"), _("Starting")),
        "import": (_("Importing the scheduled file"), _("Importing the scheduled file")),
        "values": (_("Valuing accounts"), _("Account value (LTV) and churn risk")),
        "signals": (_("Reading risk signals"), _("Renewals, engagement and competition")),
        "expansion": (_("Estimating expansion"), _("Growth potential (expansion)")),
        "deals": (_("Scoring open deals"), _("Open deals: win probability and zones")),
        "ranking": (_("Ranking and portfolio"), _("Priority, reasons and portfolio cells")),
        "plans": (_("Planning actions"), _("Account plans under each rep's hours")),
        "write": (_("Writing the snapshot"), _("Writing the snapshot")),
    }
    return {step: pair[detailed] for step, pair in names.items()}


def failure_text(what: str, detail: str) -> str:
    """A failed job's ``message`` column: what failed (a step, ``interrupted`` or ``stopped``)
    and the technical detail."""
    return f"[{what}] {detail}"


def failure_parts(message: str | None) -> tuple[str | None, str | None]:
    """``(what, detail)`` of a failed job's ``message`` column (``what`` ``None`` for a message
    written without it)."""
    if not message:
        return None, None
    found = _FAILURE.match(message)
    if found is None:
        return None, message
    return found.group(1), found.group(2) or None


def failure_sentence(what: str | None, lang: str) -> str:
    """The sentence in ``lang`` that names what failed; the scores are always as they were (a
    failed job writes nothing)."""
    _ = gettext_for(lang)
    if what == "interrupted":
        return _(
            "The job was interrupted: the process running it stopped (the server or worker was "
            "stopped or restarted) before it finished. The scores are as they were."
        )
    if what == "stopped":
        return _(
            "The job's process ended unexpectedly before it finished (see the detail). The "
            "scores are as they were."
        )
    if what == "import":
        return _(
            "The scheduled import failed, so nothing was imported or re-scored. Check the file "
            "or folder the schedule imports (see the detail)."
        )
    if what == "start":
        return _("The re-score could not start (see the detail). The scores are as they were.")
    label = step_labels(lang).get(what or "")
    if label is None:
        return _("The job failed (see the detail). The scores are as they were.")
    return _(
        "The re-score failed at the step “%(step)s” (see the detail). The scores are as they were."
    ) % {"step": label}
