"""Loading :class:`Settings` from every source of docs/language.md §10.

Sources, later ones winning, merged setting by setting (``diagnostics.disable`` from one source
and ``diagnostics.severity`` from another both apply; ``diagnostics.severity`` entries merge code
by code):

1. defaults;
2. the project file ``.taskdroid.toml`` at the workspace root — never ``runner.*``: each runner
   key there yields a ``CF001`` diagnostic on that key and is dropped;
3. the user file ``$XDG_CONFIG_HOME/taskdroid/config.toml`` (``~/.config/taskdroid/config.toml``);
4. the LSP settings (``initializationOptions`` / ``workspace/configuration`` section ``taskdroid``);
5. the environment: ``TASKDROID_RUNNER`` (a JSON array, or a string split like a shell);
6. the command line: ``--config FILE`` (read like the user file), then ``--runner``.

Nothing here raises on bad input: an invalid setting becomes a human-readable problem message
and the setting keeps its default (or the value from an earlier source).

Unset values: ``null`` anywhere, an empty ``runner.command`` (``""`` / ``[]``) anywhere, and — in
the LSP layer only — a value equal to the built-in default count as "not set". Editors such as
VS Code answer ``workspace/configuration`` with the contributed default of every setting, which
would otherwise silently override the project file.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from taskdroid.core.diagnostics import Diagnostic, diag
from taskdroid.core.settings import DEFAULT_SETTINGS, DiagnosticsSettings, RunnerSettings, Settings
from taskdroid.core.suggest import closest
from taskdroid.core.text import Position, Range, split_lines

__all__ = [
    "ENV_RUNNER",
    "PROJECT_FILE",
    "SETTING_KEYS",
    "LoadedSettings",
    "default_user_config_path",
    "load_settings",
    "parse_runner_value",
    "settings_from_dict",
]

PROJECT_FILE = ".taskdroid.toml"
ENV_RUNNER = "TASKDROID_RUNNER"

_TOP_KEYS = tuple(k for k in Settings.model_fields if k not in ("diagnostics", "runner"))
_NESTED: dict[str, type[BaseModel]] = {"diagnostics": DiagnosticsSettings, "runner": RunnerSettings}
#: every setting name, as users write it (``diagnostics.disable``, ``runner.command``, …)
SETTING_KEYS: tuple[str, ...] = _TOP_KEYS + tuple(
    f"{prefix}.{name}" for prefix, model in _NESTED.items() for name in model.model_fields
)
_SEVERITY = "diagnostics.severity"
_RUNNER_COMMAND = "runner.command"

_EXPECTED = {
    "taskFiles": "a list of glob strings",
    "droidFiles": "a list of glob strings",
    "droidPaths": "a list of folder paths",
    "exclude": "a list of glob strings",
    "priorities": "a list of strings",
    "markerAliases": "a table of marker → status (pending, in_progress, completed, blocked, cancelled)",
    "extraTools": "a list of strings",
    "diagnostics.disable": "a list of diagnostic codes",
    "diagnostics.severity": "a table of diagnostic code → severity",
    "runner.command": "a list of strings (argv) or one string",
    "runner.prompt": "a string",
    "runner.timeoutSeconds": "a whole number ≥ 1",
    "runner.maxParallel": "a whole number ≥ 1",
    "runner.logDir": "a string",
    "runner.verify": "true or false",
    "runner.requireChanges": "true or false",
}


@dataclass(slots=True)
class LoadedSettings:
    settings: Settings
    #: human-readable messages about invalid settings (for window/showMessage or stderr)
    problems: list[str] = field(default_factory=list)
    #: the project's ``.taskdroid.toml`` when there is one
    project_file: Path | None = None
    #: CF001 diagnostics for ``project_file``
    project_diagnostics: list[Diagnostic] = field(default_factory=list)
    #: setting name → the source its value came from (settings left at their default are absent)
    origins: dict[str, str] = field(default_factory=dict)


# -- public API ---------------------------------------------------------------------------------


def load_settings(
    root: Path | None,
    *,
    lsp: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    runner_override: str | list[str] | None = None,
    config_file: Path | None = None,
    user_config: Path | None = None,
) -> LoadedSettings:
    """Settings from all sources of docs/language.md §10 (see the module docstring for the order).

    ``env=None`` reads ``os.environ``; ``user_config=None`` means :func:`default_user_config_path`.
    """
    env = os.environ if env is None else env
    merger = _Merger()
    project_file: Path | None = None
    project_diags: list[Diagnostic] = []

    if root is not None:
        candidate = Path(root) / PROJECT_FILE
        if candidate.is_file():
            project_file = candidate
            data, project_diags = _read_project_file(candidate, merger.problems)
            if data is not None:
                merger.add(data, PROJECT_FILE)

    user_path = default_user_config_path(env) if user_config is None else Path(user_config)
    if user_path is not None:
        data = _read_toml(user_path, str(user_path), merger.problems, missing_ok=True)
        if data is not None:
            merger.add(data, str(user_path))

    if isinstance(lsp, Mapping):
        merger.add(_unwrap_lsp(lsp), "editor settings", skip_defaults=True)
    elif lsp is not None:
        merger.problems.append(f"editor settings: expected an object, got {_show(lsp)}; ignored")

    env_runner = env.get(ENV_RUNNER)
    if env_runner is not None and env_runner.strip():
        merger.add_runner(env_runner, ENV_RUNNER)

    if config_file is not None:
        data = _read_toml(Path(config_file), str(config_file), merger.problems, missing_ok=False)
        if data is not None:
            merger.add(data, str(config_file))

    if runner_override is not None:
        merger.add_runner(runner_override, "--runner")

    return LoadedSettings(
        settings=merger.build(),
        problems=merger.problems,
        project_file=project_file,
        project_diagnostics=project_diags,
        origins=dict(merger.origins),
    )


def settings_from_dict(data: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """Validate one source's settings (nested or VS Code–style dotted keys, optionally wrapped
    as ``{"taskdroid": …}`` or ``{"settings": …}``).

    Returns the valid settings as a nested dict ready for ``Settings.model_validate`` (invalid
    ones left out) and the problem messages.
    """
    merger = _Merger()
    merger.add(_unwrap_lsp(data), source)
    return merger.nested(), merger.problems


def default_user_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CONFIG_HOME/taskdroid/config.toml``, else ``~/.config/taskdroid/config.toml``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "taskdroid" / "config.toml"
    home = env.get("HOME")
    try:
        base = Path(home) if home else Path.home()
    except (RuntimeError, KeyError):
        return None
    return base / ".config" / "taskdroid" / "config.toml"


def parse_runner_value(value: str | list[str]) -> list[str]:
    """``--runner`` / ``TASKDROID_RUNNER``: a JSON array of strings, or a string split like a
    shell (never run through one). Raises ValueError with a readable message."""
    if isinstance(value, list):
        parts = value
    elif value.lstrip().startswith("["):
        try:
            parts = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"not a valid JSON array ({e.msg} at column {e.colno})") from None
    else:
        try:
            parts = shlex.split(value)
        except ValueError as e:
            raise ValueError(f"cannot split it like a shell would ({e})") from None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ValueError("expected a JSON array of strings")
    if not parts:
        raise ValueError("the command is empty")
    return list(parts)


# -- merging and validation ---------------------------------------------------------------------


class _Merger:
    """Accumulates validated settings source after source (flat keys, later sources winning)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.problems: list[str] = []

    def add(self, data: Mapping[str, Any], source: str, *, skip_defaults: bool = False) -> None:
        for key, value in _flatten(data, source, self.problems):
            if value is None or (key == _RUNNER_COMMAND and _empty_command(value)):
                continue
            if key not in SETTING_KEYS:
                self.problems.append(f"{source}: {_unknown_key_message(key)}; ignored")
                continue
            if key == _SEVERITY:
                self._add_severity(value, source)
                continue
            try:
                validated = _validate(key, value)
            except ValueError as e:
                self.problems.append(f"{source}: {key}: {e}; {self._fallback(key)}")
                continue
            if skip_defaults and validated == _default(key):
                continue
            self.values[key] = validated
            self.origins[key] = source

    def add_runner(self, value: str | list[str], source: str) -> None:
        try:
            command = parse_runner_value(value)
        except ValueError as e:
            self.problems.append(f"{source}: {e}; {self._fallback(_RUNNER_COMMAND)}")
            return
        self.add({_RUNNER_COMMAND: command}, source)

    def _add_severity(self, value: Any, source: str) -> None:
        if not isinstance(value, Mapping):
            self.problems.append(
                f"{source}: {_SEVERITY}: expected {_EXPECTED[_SEVERITY]}, got {_show(value)}; "
                f"{self._fallback(_SEVERITY)}"
            )
            return
        merged = dict(self.values.get(_SEVERITY, {}))
        changed = False
        for code, severity in value.items():
            try:
                merged.update(_validate(_SEVERITY, {code: severity}))
                changed = True
            except ValueError as e:
                self.problems.append(f"{source}: {_SEVERITY}.{code}: {e}; ignored")
        if changed:
            self.values[_SEVERITY] = merged
            self.origins[_SEVERITY] = source

    def _fallback(self, key: str) -> str:
        origin = self.origins.get(key)
        return f"keeping the value from {origin}" if origin else "using the default"

    def nested(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            prefix, _, name = key.partition(".")
            if name:
                out.setdefault(prefix, {})[name] = value
            else:
                out[key] = value
        return out

    def build(self) -> Settings:
        if not self.values:  # nothing set anywhere: the shared defaults, with nothing to validate
            return DEFAULT_SETTINGS
        try:
            return Settings.model_validate(self.nested())
        except ValidationError as e:  # pragma: no cover - every value was validated alone
            self.problems.append(f"settings: {e}; using the defaults")
            return Settings()


def _flatten(
    data: Mapping[str, Any], source: str, problems: list[str]
) -> Iterator[tuple[str, Any]]:
    """``{"diagnostics": {"disable": …}}`` and ``{"diagnostics.disable": …}`` → flat keys.

    ``diagnostics.severity.TD040`` style keys are folded into ``diagnostics.severity``.
    """
    severity: dict[str, Any] = {}
    has_severity = False
    for raw_key, value in data.items():
        key = str(raw_key).removeprefix("taskdroid.")
        prefix, dot, _ = key.partition(".")
        if prefix in _NESTED and not dot:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                problems.append(f"{source}: {key}: expected a table, got {_show(value)}; ignored")
                continue
            items = [(f"{prefix}.{name}", v) for name, v in value.items()]
        else:
            items = [(key, value)]
        for flat_key, flat_value in items:
            if flat_key == _SEVERITY and isinstance(flat_value, Mapping):
                severity.update(flat_value)
                has_severity = True
            elif flat_key.startswith(_SEVERITY + "."):
                severity[flat_key[len(_SEVERITY) + 1 :]] = flat_value
                has_severity = True
            else:
                yield flat_key, flat_value
    if has_severity:
        yield _SEVERITY, severity


def _validate(key: str, value: Any) -> Any:
    """The validated value of one setting; ValueError with a readable reason when invalid."""
    prefix, _, name = key.partition(".")
    model: type[BaseModel] = _NESTED[prefix] if name else Settings
    field_name = name or key
    try:
        obj = model.model_validate({field_name: value})
    except ValidationError as e:
        raise ValueError(_reason(key, value, e)) from None
    return getattr(obj, field_name)


def _reason(key: str, value: Any, error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    if first["type"] == "value_error":
        return str(first["msg"]).removeprefix("Value error, ")
    return f"expected {_EXPECTED.get(key, 'another value')}, got {_show(value)}"


def _default(key: str) -> Any:
    prefix, _, name = key.partition(".")
    if name:
        return getattr(getattr(_DEFAULTS, prefix), name)
    return getattr(_DEFAULTS, key)


_DEFAULTS = DEFAULT_SETTINGS


def _empty_command(value: Any) -> bool:
    return (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _unknown_key_message(key: str) -> str:
    suggestion = closest(key, SETTING_KEYS)
    hint = f" (did you mean `{suggestion}`?)" if suggestion else ""
    return f"unknown setting `{key}`{hint}"


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _unwrap_lsp(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept ``{"taskdroid": {...}}`` and ``{"settings": {...}}`` wrappings (repeatedly)."""
    for _ in range(4):
        for wrapper in ("taskdroid", "settings"):
            inner = data.get(wrapper)
            if isinstance(inner, Mapping):
                data = inner
                break
        else:
            break
    return data


# -- TOML files ---------------------------------------------------------------------------------


#: a settings file larger than this is not read (a repository could commit a huge one)
MAX_CONFIG_BYTES = 1024 * 1024


def _read_text(path: Path, label: str, problems: list[str], *, missing_ok: bool) -> str | None:
    try:
        if not path.is_dir() and path.stat().st_size > MAX_CONFIG_BYTES:
            problems.append(f"{label}: larger than {MAX_CONFIG_BYTES // 1024} KB; file ignored")
            return None
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not missing_ok:
            problems.append(f"{label}: file not found")
        return None
    except IsADirectoryError:
        problems.append(f"{label}: is a folder, not a TOML file")
    except UnicodeDecodeError as e:
        problems.append(f"{label}: not UTF-8 text ({e.reason} at byte {e.start}); file ignored")
    except OSError as e:
        problems.append(f"{label}: cannot read ({e.strerror or e}); file ignored")
    return None


def _parse_toml(text: str, label: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{label}: {_toml_error(text, str(e))}; file ignored")
        return None


_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _toml_error(text: str, message: str) -> str:
    """``Invalid value (at line 3, column 7)`` → ``invalid TOML at line 3, column 7: Invalid value``
    (the end of the document gets its line and column too)."""
    m = _TOML_AT.search(message)
    if m is None:
        return f"invalid TOML: {message}"
    if m.group(1):
        line, column = int(m.group(1)), int(m.group(2))
    else:
        lines = split_lines(text)
        line, column = len(lines), len(lines[-1]) + 1
    return f"invalid TOML at line {line}, column {column}: {message[: m.start()]}"


def _read_toml(
    path: Path, label: str, problems: list[str], *, missing_ok: bool
) -> dict[str, Any] | None:
    text = _read_text(path, label, problems, missing_ok=missing_ok)
    return None if text is None else _parse_toml(text, label, problems)


def _read_project_file(
    path: Path, problems: list[str]
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The project file without its ``runner`` keys, and a CF001 for each of them."""
    text = _read_text(path, PROJECT_FILE, problems, missing_ok=True)
    if text is None:
        return None, []
    data = _parse_toml(text, PROJECT_FILE, problems)
    if data is None:
        return None, []
    runner_keys = [k for k in data if _is_runner_key(k)]
    if not runner_keys:
        return data, []
    names: list[str] = []
    for key in runner_keys:
        value = data.pop(key)
        name = key.removeprefix("taskdroid.").removeprefix("runner").removeprefix(".")
        if name:
            names.append(name.partition(".")[0])
        elif isinstance(value, dict):
            names.extend(value)
        else:
            names.append("")
    return data, _runner_diagnostics(text, names)


def _is_runner_key(key: str) -> bool:
    """``runner`` itself, or a quoted dotted key such as ``"runner.command"`` (our flattened
    syntax, which TOML reads as one key)."""
    key = key.removeprefix("taskdroid.")
    return key == "runner" or key.startswith("runner.")


# -- CF001: locating runner keys in the project file ---------------------------------------------


def _runner_diagnostics(text: str, names: list[str]) -> list[Diagnostic]:
    """One CF001 per runner setting (``""`` stands for a ``runner`` key that is not a table)."""
    located = _locate_runner_keys(text)
    out: list[Diagnostic] = []
    for name in dict.fromkeys(names):
        rng = located.get(name) or located.get("") or Range.of(0, 0, 0)
        shown = f"runner.{name}" if name else "runner"
        out.append(
            diag(
                "CF001",
                rng,
                f"`{shown}` is ignored here: the runner can only be set in user settings (the "
                "user config file, editor settings, TASKDROID_RUNNER or --runner), never in the "
                f"project's {PROJECT_FILE}, so that a repository cannot make your editor run "
                "a program.",
                data={"key": shown},
            )
        )
    return out


def _locate_runner_keys(text: str) -> dict[str, Range]:
    """Runner setting name → range of its key in ``text`` ("" for ``runner`` itself)."""
    found: dict[str, Range] = {}
    try:
        for path, spans, value_is_table in _TomlKeyScanner(text).scan():
            _note_runner_key(path, spans, value_is_table, found)
    except (IndexError, ValueError):  # pragma: no cover - the text already parsed as TOML
        pass
    return found


def _note_runner_key(
    path: tuple[str, ...],
    spans: tuple[Range | None, ...],
    value_is_table: bool,
    found: dict[str, Range],
) -> None:
    path, spans = _split_quoted_head(path, spans)
    if not path or path[0] != "runner":
        return
    if len(path) == 1:
        if not value_is_table and spans[0] is not None:
            found.setdefault("", spans[0])
        return
    end = spans[1]
    if end is None:  # inside [runner.x] or its inline table: reported at that key
        return
    start = spans[0] or end
    found.setdefault(path[1], Range(start.start, end.end))


def _split_quoted_head(
    path: tuple[str, ...], spans: tuple[Range | None, ...]
) -> tuple[tuple[str, ...], tuple[Range | None, ...]]:
    """``("taskdroid.runner.command",)`` (one quoted key) → ``("runner", "command")``."""
    if not path:
        return path, spans
    head = path[0].removeprefix("taskdroid.")
    if head == path[0] and "." not in head:
        return path, spans
    parts = tuple(head.split("."))
    return parts + path[1:], (spans[0],) * len(parts) + spans[1:]


_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _TomlKeyScanner:
    """A small scanner over TOML text that already parsed: yields every key with its position.

    Each item is ``(full key path, span of each path part written at that place or None when the
    part comes from the enclosing table or inline table, value is an inline table)``. Headers
    (``[a.b]``, ``[[a]]``) are yielded too, as tables.
    """

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)
        self.line_starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]

    def pos(self, index: int) -> Position:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return Position(line, index - self.line_starts[line])

    def scan(self) -> Iterator[tuple[tuple[str, ...], tuple[Range | None, ...], bool]]:
        table: tuple[str, ...] = ()
        while True:
            self._skip_trivia(newlines=True)
            if self.i >= self.n:
                return
            if self.s[self.i] == "[":
                array = self.s.startswith("[[", self.i)
                self.i += 2 if array else 1
                names, spans = self._key()
                self._skip_trivia(newlines=False)
                self.i += 2 if array else 1
                table = names
                yield names, spans, not array
                continue
            yield from self._key_value(table, tuple(None for _ in table))

    def _key_value(
        self, prefix: tuple[str, ...], prefix_spans: tuple[Range | None, ...]
    ) -> Iterator[tuple[tuple[str, ...], tuple[Range | None, ...], bool]]:
        names, spans = self._key()
        self._skip_trivia(newlines=False)
        self.i += 1  # '='
        self._skip_trivia(newlines=False)
        path, path_spans = prefix + names, prefix_spans + spans
        if self.i < self.n and self.s[self.i] == "{":
            yield path, path_spans, True
            yield from self._inline_table(path)
        else:
            yield path, path_spans, False
            self._value()

    def _inline_table(
        self, prefix: tuple[str, ...]
    ) -> Iterator[tuple[tuple[str, ...], tuple[Range | None, ...], bool]]:
        self.i += 1  # '{'
        while True:
            self._skip_trivia(newlines=True)
            if self.i >= self.n or self.s[self.i] == "}":
                self.i += 1
                return
            if self.s[self.i] == ",":
                self.i += 1
                continue
            yield from self._key_value(prefix, tuple(None for _ in prefix))

    def _key(self) -> tuple[tuple[str, ...], tuple[Range | None, ...]]:
        names: list[str] = []
        spans: list[Range | None] = []
        while True:
            self._skip_trivia(newlines=False)
            start = self.i
            c = self.s[self.i]
            if c in "\"'":
                end = self._string_end(self.i)
                names.append(tomllib.loads(f"k = {self.s[start:end]}")["k"])
            else:
                end = start
                while end < self.n and self.s[end] in _BARE_KEY_CHARS:
                    end += 1
                if end == start:
                    raise ValueError("expected a key")
                names.append(self.s[start:end])
            spans.append(Range(self.pos(start), self.pos(end)))
            self.i = end
            self._skip_trivia(newlines=False)
            if self.i < self.n and self.s[self.i] == ".":
                self.i += 1
                continue
            return tuple(names), tuple(spans)

    def _value(self) -> None:
        c = self.s[self.i]
        if c in "\"'":
            self.i = self._string_end(self.i)
        elif c == "[":
            self._array()
        elif c == "{":
            for _ in self._inline_table(()):
                pass
        else:
            while self.i < self.n and self.s[self.i] not in ",]}\n#":
                self.i += 1

    def _array(self) -> None:
        self.i += 1  # '['
        while True:
            self._skip_trivia(newlines=True)
            if self.i >= self.n or self.s[self.i] == "]":
                self.i += 1
                return
            if self.s[self.i] == ",":
                self.i += 1
                continue
            self._value()

    def _string_end(self, start: int) -> int:
        """Index after the string literal starting at ``start``."""
        s = self.s
        quote = s[start]
        triple = s.startswith(quote * 3, start)
        i = start + (3 if triple else 1)
        while i < self.n:
            c = s[i]
            if c == "\\" and quote == '"':
                i += 2
                continue
            if triple and s.startswith(quote * 3, i):
                end = i + 3
                while end < self.n and s[end] == quote and end - i < 5:
                    end += 1  # up to two quotes may precede the closing delimiter
                return end
            if not triple and c == quote:
                return i + 1
            i += 1
        return self.n

    def _skip_trivia(self, *, newlines: bool) -> None:
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#":
                while self.i < n and s[self.i] != "\n":
                    self.i += 1
            else:
                return


def project_file_diagnostics(path: Path) -> list[Diagnostic]:
    """CF001 diagnostics of a ``.taskdroid.toml`` (used for nested projects the CLI checks)."""
    problems: list[str] = []
    _, diags = _read_project_file(Path(path), problems)
    return diags
