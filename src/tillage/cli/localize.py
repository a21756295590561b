"""The command line's own words in the user's language: ``--help`` and the usage errors.

Typer (which vendors click) writes its help titles, "Usage:", "Show this message and exit." and
its usage errors ("Missing option '--amount'.", "No such option: --x", "Invalid value for
'--top': …") in English, most of them as f-strings that no catalog can reach. So tillage
translates them on its side: :func:`localize` puts the translated framework strings and each
command's help into the command tree before it is shown, and :func:`show_usage_error` writes a
usage error from the exception's parts (its kind, the parameter, the value) in the language,
with the same layout and exit status 2 as Typer's own.

Help texts of commands and options are marked with :func:`N_` where they are written, so that
``scripts/update-catalogs`` extracts them; they are translated when the command is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from difflib import get_close_matches
from typing import Any

import typer
from typer import _click, rich_utils  # typer vendors click as typer._click

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here: it is translated when
    shown (a help text is written before the language is known)."""
    return message


def language_gettext() -> Gettext:
    """The ``_`` of the language of the command (``--lang``, else the settings); English when
    the settings themselves cannot be read."""
    from tillage.cli.context import state

    try:
        return state.gettext()
    except Exception:  # an unreadable setting is reported by the command itself, in English
        return N_


class _UsageFormatter(_click.formatting.HelpFormatter):
    """Typer's help formatter with the "Usage:" of the language."""

    prefix = "Usage: "

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, self.prefix if prefix is None else prefix)


def _folding(make: Callable[..., Any]) -> Callable[..., Any]:
    """Typer's maker of help texts, whose texts fold where a line has no space to break at (a
    Japanese sentence) instead of ending in "…"."""

    def make_folding(**kwargs: Any) -> Any:
        text = make(**kwargs)
        if hasattr(text, "overflow"):
            text.overflow = "fold"
        return text

    make_folding.folds = True  # type: ignore[attr-defined]
    return make_folding


def _framework(_: Gettext) -> None:
    """Typer's fixed help words (panel titles, default, required) in the language, and help
    texts that wrap without spaces."""
    if not getattr(rich_utils._make_rich_text, "folds", False):
        rich_utils._make_rich_text = _folding(rich_utils._make_rich_text)
    _UsageFormatter.prefix = _("Usage: ")
    _click.core.Context.formatter_class = _UsageFormatter
    rich_utils.ARGUMENTS_PANEL_TITLE = _("Arguments")
    rich_utils.OPTIONS_PANEL_TITLE = _("Options")
    rich_utils.COMMANDS_PANEL_TITLE = _("Commands")
    rich_utils.ERRORS_PANEL_TITLE = _("Error")
    rich_utils.DEFAULT_STRING = _("[default: {}]")
    rich_utils.REQUIRED_LONG_STRING = _("[required]")
    rich_utils.DEPRECATED_STRING = _("(deprecated) ")
    rich_utils.ABORTED_TEXT = _("Aborted.")


def localize(command: Any, _: Gettext, summary: str | None = None) -> None:
    """Translate ``command`` (and the commands of a group, recursively) in place: its help (the
    catalog's translation of ``summary`` where the command's help starts with it), its options'
    help, the help option and the usage line's placeholders; and Typer's fixed words."""
    _framework(_)
    help_text = command.help or ""
    if summary and help_text.startswith(summary):
        rest = help_text[len(summary) :].strip()
        translated = _(summary)
        # a longer docstring stays only where it is the language of the catalog's source
        command.help = translated if translated != summary or not rest else help_text
    elif help_text:
        command.help = _(help_text)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _(param.help)
        _type_label(param, _)
    helper = command.get_help_option(_click.Context(command))
    if helper is not None:
        helper.help = _("Show this message and exit.")
        _type_label(helper, _)
    if command.options_metavar:
        command.options_metavar = _("[OPTIONS]")
    if getattr(command, "subcommand_metavar", None):
        command.subcommand_metavar = _("COMMAND [ARGS]...")
    for sub in (getattr(command, "commands", None) or {}).values():
        localize(sub, _)


#: The value types Typer shows beside an option in ``--help`` (``<str>``), by their Python name.
TYPE_LABELS = {
    "str": N_("text"),
    "int": N_("integer"),
    "float": N_("number"),
    "Path": N_("path"),
    "path": N_("path"),
    "file": N_("file"),
    "directory": N_("folder"),
    "datetime": N_("date and time"),
}
_LIST = re.compile(r"^list\[(?P<item>.*)\]$")


def _type_label(param: Any, _: Gettext) -> None:
    """Show ``param``'s value type in the language (``<文字列>`` for ``<str>``) and none for a
    flag, which takes no value (Typer shows ``<bool>``). Choices (``<salesforce|hubspot>``) are
    what the user types, and stay. Typer 0.29 asks ``display_type_rich``: check on an upgrade."""
    shown = getattr(param, "display_type_rich", None)
    if shown is None or getattr(shown, "_tillage", False):
        return

    def label(name: str) -> str:
        listed = _LIST.match(name)
        if listed:
            return _("list of {item}").format(item=label(listed["item"]))
        return _(TYPE_LABELS[name]) if name in TYPE_LABELS else name

    def display(ctx: Any) -> str | None:
        if getattr(param, "is_flag", False):
            return None
        text = shown(ctx=ctx)
        if not text or not (text.startswith("<") and text.endswith(">")):
            return text
        return f"<{label(text[1:-1])}>"

    display._tillage = True  # type: ignore[attr-defined]
    param.display_type_rich = display


def no_such_command(ctx: Any, name: str, known: Iterable[str], _: Gettext) -> Exception:
    """The usage error for a command name that is none of ``known``, with the close ones."""
    message = _("No such command '{name}'.").format(name=name)
    matches = get_close_matches(name, list(known))
    if matches:
        message += " " + _("Did you mean {names}?").format(
            names=", ".join(f"'{m}'" for m in matches)
        )
    return _click.exceptions.UsageError(message, ctx)


_FIXED = [  # Typer's own messages built with f-strings, and tillage's "choose …" refusals
    (
        re.compile(r"choose one of (?P<choices>.+)"),
        N_("choose one of {choices}"),
    ),
    (
        re.compile(r"choose (?P<choices>.+) or (?P<last>[^ ]+)"),
        N_("choose {choices} or {last}"),
    ),
    (
        re.compile(r"Option '(?P<name>.+)' requires an argument\."),
        N_("Option '{name}' needs a value."),
    ),
    (
        re.compile(r"Option '(?P<name>.+)' requires (?P<count>\d+) arguments\."),
        N_("Option '{name}' needs {count} values."),
    ),
    (
        re.compile(r"Option '(?P<name>.+)' does not take a value\."),
        N_("Option '{name}' takes no value."),
    ),
    (
        re.compile(r"Argument '(?P<name>.+)' takes (?P<count>\d+) values\."),
        N_("Argument '{name}' takes {count} values."),
    ),
    (
        re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)"),
        N_("Unexpected extra arguments ({args})."),
    ),
    (
        re.compile(r"\w+ (?P<path>'.*') does not exist\."),
        N_("{path} does not exist."),
    ),
    (
        re.compile(r"\w+ (?P<path>'.*') is a file\."),
        N_("{path} is a file, not a folder."),
    ),
    (
        re.compile(r"\w+ (?P<path>'.*') is a directory\."),
        N_("{path} is a folder, not a file."),
    ),
    (
        re.compile(r"\w+ (?P<path>'.*') is not readable\."),
        N_("{path} cannot be read."),
    ),
    (
        re.compile(r"\w+ (?P<path>'.*') is not writable\."),
        N_("{path} cannot be written."),
    ),
    (
        re.compile(r"(?P<value>'.*') is not a date like 2026-09-30"),
        N_("{value} is not a date like 2026-09-30."),
    ),
    (
        re.compile(r"No such command '(?P<name>.+)'\."),
        N_("No such command '{name}'."),
    ),
    (
        re.compile(r"Missing command\."),
        N_("Missing command."),
    ),
]


def _plain(message: str, _: Gettext) -> str:
    """A message of Typer or of a command in the language: a known pattern translated with its
    parts, else the catalog's translation of the whole message (the message itself if none)."""
    for pattern, template in _FIXED:
        found = pattern.fullmatch(message)
        if found:
            return _(template).format(**found.groupdict())
    return _(message)


def _invalid(exc: Any, _: Gettext) -> str:
    """Why a value was refused: from the validation error Typer converted, else its message."""
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []
    if not errors:
        return _plain(exc.message, _)
    value = repr(errors[0].get("input"))
    kind = str(errors[0].get("type", ""))
    if kind.startswith("int"):
        return _("{value} is not a whole number.").format(value=value)
    if kind.startswith(("float", "decimal")):
        return _("{value} is not a number.").format(value=value)
    if kind.startswith("bool"):
        return _("{value} is not yes or no.").format(value=value)
    if kind.startswith(("date", "datetime")):
        return _("{value} is not a date like 2026-09-30.").format(value=value)
    if kind in ("enum", "literal_error"):
        expected = str(errors[0].get("ctx", {}).get("expected", ""))
        return _("{value} is not one of {choices}.").format(value=value, choices=expected)
    return _("{value} cannot be used here.").format(value=value)


def usage_message(exc: Any, _: Gettext) -> str:
    """The one-line reason of a usage error, in the language."""
    errors = _click.exceptions
    if isinstance(exc, errors.MissingParameter):
        hint = exc.param_hint or (exc.param.get_error_hint() if exc.param else "")
        if not isinstance(hint, str):
            hint = " / ".join(repr(x) for x in hint)
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        if kind == "argument":
            return _("Missing argument {name}.").format(name=hint)
        return _("Missing option {name}.").format(name=hint)
    if isinstance(exc, errors.BadParameter):
        hint = exc.param_hint or (exc.param.get_error_hint() if exc.param else None)
        if hint is not None and not isinstance(hint, str):
            hint = " / ".join(repr(x) for x in hint)
        reason = _invalid(exc, _)
        if hint is None:
            return _("Invalid value: {reason}").format(reason=reason)
        return _("Invalid value for {name}: {reason}").format(name=hint, reason=reason)
    if isinstance(exc, errors.NoSuchOption):
        message = _("No such option: {name}").format(name=exc.option_name)
        if exc.possibilities:
            options = ", ".join(sorted(exc.possibilities))
            message += " " + _("(Possible options: {options})").format(options=options)
        return message
    return _plain(str(exc.message), _)


def show_usage_error(exc: Any, _: Gettext) -> None:
    """Write a usage error to standard error as Typer does (the usage line, the hint to
    ``--help``, the reason), in the language of ``_``."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help, shown for no arguments
        exc.show()
        return
    _framework(_)
    lines = []
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        localize(ctx.command, _)  # the usage line's placeholders
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            hint = _("Try '{command} {option}' for help.")
            lines.append(hint.format(command=ctx.command_path, option=ctx.help_option_names[0]))
        lines.append("")
    lines.append(_("Error: {message}").format(message=usage_message(exc, _)))
    typer.echo("\n".join(lines), err=True)
