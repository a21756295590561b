"""The strategy: the one resolver of the strategy in force, used by every command and route,
and checking / saving a new version.

The strategy lives in the store as versions (``strategy_versions``, newest in force); before any
was saved the defaults apply. A file given explicitly (``--strategy``) overrides both.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tillage.errors import ConfigurationError, DataValidationError
from tillage.store.access import Principal
from tillage.store.database import session_factory
from tillage.store.strategies import StrategyInfo, current_strategy, save_strategy, text_hash
from tillage.store.users import utcnow
from tillage.strategy.config import Strategy, load_strategy, loads_strategy
from tillage.strategy.config_text import default_strategy_toml


def resolve_strategy(engine: Engine, path: str | Path | None = None) -> tuple[Strategy, str, str]:
    """The strategy of a scoring run, its SHA-256 and where it came from: the file ``path``;
    else the newest saved version (``strategy_versions``); else the built-in defaults (hashed
    as the text ``tillage strategy init`` writes)."""
    if path is not None:
        text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
        strategy = load_strategy(path)  # names the file when it is missing or invalid
        return strategy, text_hash(text or ""), f"file {Path(path).name}"
    with session_factory(engine)() as session:
        saved = current_strategy(session)
        if saved is not None:
            source = f"strategy_versions {saved.id}"
            return loads_strategy(saved.text, source=source), saved.sha256, source
    return Strategy(), text_hash(default_strategy_toml()), "default"


def strategy_in_force(
    store: Session | Engine, path: str | Path | None = None, *, currency: str | None = None
) -> Strategy:
    """The strategy every command, route and page uses: the file ``path`` when given, else the
    newest saved version, else the defaults (:func:`resolve_strategy`).

    ``currency``: the company currency (``Settings.currency``, the one the store's amounts are
    in); given, the strategy words its amounts in it, so that no surface shows the same amount
    in two currencies."""
    engine = store.get_bind() if isinstance(store, Session) else store
    strategy, _hash, _source = resolve_strategy(engine, path)  # type: ignore[arg-type]
    if currency is not None and currency != strategy.currency:
        strategy = strategy.model_copy(update={"currency": currency})
    return strategy


MAX_TEXT = 200_000  # characters


def check_strategy(text: str) -> Strategy:
    """``text`` parsed and validated; :class:`ConfigurationError` names each field at fault
    (``fields``)."""
    return loads_strategy(text, source="(request)")


def save_strategy_text(
    session: Session,
    principal: Principal,
    text: str,
    comment: str | None,
    *,
    client: str | None = None,
) -> StrategyInfo:
    """Validate ``text`` and save it as a new version by ``principal`` (audit-logged,
    committed); an invalid text is refused with :class:`DataValidationError` and not saved."""
    try:
        check_strategy(text)
    except ConfigurationError as exc:
        raise DataValidationError(str(exc)) from None
    info = save_strategy(session, text, now=utcnow(), by=principal, comment=comment, client=client)
    session.commit()
    return info
