"""Reps by key or id, and their names: the one ``find_rep`` every surface and service uses."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.schema import Rep, Team


def find_rep(session: Session, rep: str) -> Rep:
    """A rep by key, or by id when ``rep`` is a number; :class:`NotFoundError` otherwise."""
    found = session.scalars(select(Rep).where(Rep.key == rep)).first()
    if found is None and rep.isdigit():
        found = session.get(Rep, int(rep))
    if found is None:
        raise NotFoundError(f"no rep with key or id {rep!r}")
    return found


def rep_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The names of the reps ``ids`` (rep id → name; ids not in the store are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(wanted)))
    return {int(rep_id): name for rep_id, name in rows}


def find_team(session: Session, team: str) -> Team:
    """A team by key; :class:`NotFoundError` otherwise."""
    found = session.scalars(select(Team).where(Team.key == team)).first()
    if found is None:
        raise NotFoundError(f"no team with key {team!r}")
    return found
