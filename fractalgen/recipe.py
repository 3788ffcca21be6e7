"""Recipes: what defines a fractal set, and the per-image seeding that makes every image reproducible.

A recipe is a TOML file or a built-in preset: a few set-wide settings (``family``, ``size``, ``seed``,
``color``, ``max_draws``) and one section per fractal family (``[ifs]`` ...) whose keys and defaults are
declared next to that family's renderer. :func:`load_recipe` validates it into a :class:`Recipe`; unknown keys
and out-of-range values raise :class:`~fractalgen.errors.RecipeError` naming the key and the fix.

Image ``i`` of a recipe is a pure function of (recipe, seed, i): draw ``d`` of image ``i`` takes its random
numbers from the stream of ``(seed, i, d, STREAM_PARAMS)`` (:func:`fractalgen._random.stream_of`, inside the
family's kernel) and nothing else, so the image is byte-identical whatever order, batch, process or worker
renders it. A draw that fails the family's quality gate is replaced by draw ``d + 1``
of the same image; the number of draws taken is stored with the image's parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RecipeError, RenderError
from .render import FAMILIES, RENDER_VERSION
from .seeding import STREAM_FAMILY, STREAM_MIXING, STREAM_PARAMS, derive  # noqa: F401
from .schema import Bool, Int, Weights, describe, parse_section, section_to_dict, setting, short_repr

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESET_DIR = Path(__file__).parent / "presets"


def image_rng(seed: int, index: int, draw: int = 0, stream: int = STREAM_PARAMS) -> np.random.Generator:
    """The generator of draw ``draw`` of image ``index`` of a set seeded ``seed`` (:func:`fractalgen.seeding.derive`,
    the one place that derives generators)."""
    return derive(seed, index, draw, stream)


@dataclasses.dataclass(frozen=True)
class SetSettings:
    """The set-wide settings: the top level of a recipe file."""

    family: tuple = setting(Weights((("ifs", 1.0),), tuple(FAMILIES)),
                            "fractal family, or a table of weights to draw the family of each image")
    size: int = setting(Int(256, 8, 8192), "image side in pixels (images are square)")
    seed: int = setting(Int(0, 0, 2**63 - 1), "seed of the set: image i depends on (recipe, seed, i) only")
    color: bool = setting(Bool(True), "colour images (3 channels) or grayscale (1 channel)")
    max_draws: int = setting(Int(20, 1, 100_000), "draws per image before a gate failure stops the set")


@dataclasses.dataclass(frozen=True, eq=False)
class Recipe:
    """A validated recipe. ``recipe.image(i)`` renders image i, ``recipe.params(i)`` gives its parameters."""

    settings: SetSettings
    sections: Mapping[str, Any]
    source: str = ""

    # -- the set-wide settings, read-only
    @property
    def family(self) -> dict[str, float]:
        return dict(self.settings.family)

    @property
    def size(self) -> int:
        return self.settings.size

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def color(self) -> bool:
        return self.settings.color

    @property
    def channels(self) -> int:
        return 3 if self.settings.color else 1

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, self.channels)

    @property
    def max_draws(self) -> int:
        return self.settings.max_draws

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections")
        if sections is not None and name in sections:
            return sections[name]
        raise AttributeError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipe) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        fams = "+".join(self.family)
        mode = "colour" if self.color else "gray"
        return f"Recipe({self.source or 'custom'!r}, family={fams}, size={self.size}, seed={self.seed}, {mode})"

    # -- drawing images
    def pick_family(self, index: int) -> str:
        """The family of image ``index`` (drawn once per image, so gate redraws keep the family weights)."""
        names = self._family_names
        if len(names) == 1:
            return names[0]
        w = np.array([self.family[n] for n in names])
        return names[int(image_rng(self.seed, index, 0, STREAM_FAMILY).choice(len(names), p=w / w.sum()))]

    @functools.cached_property
    def _family_names(self) -> tuple[str, ...]:
        """The families drawn from, in the recipe's order (asked once per image: computed once)."""
        return tuple(name for name, _ in self.settings.family)

    @property
    def sections_used(self) -> dict[str, Any]:
        return {name: self.sections[name] for name in self.family}

    def draw(self, index: int) -> tuple[np.ndarray, dict]:
        """Image ``index`` and its parameters: the first draw that passes the family's quality gate."""
        index = _check_index(index)
        images, params = self._render([index], with_params=True)
        return images[0], params[0]

    def image(self, index: int) -> np.ndarray:
        """Image ``index``: uint8 (size, size, 3), or (size, size, 1) for a grayscale recipe."""
        return self.images([index])[0]

    def params(self, index: int) -> dict:
        """JSON-serialisable parameters of image ``index``: ``fractalgen.render(params)`` re-renders it."""
        return self.draw(index)[1]

    def images(self, indices) -> np.ndarray:
        """Images ``indices`` (any iterable of indices) as one uint8 (n, size, size, channels) array, rendered in
        one kernel call per family: byte for byte the images :meth:`image` gives one by one (each is a pure
        function of its index)."""
        return self._render([_check_index(i) for i in indices], with_params=False)[0]

    def draw_many(self, indices) -> tuple[np.ndarray, list[dict]]:
        """:meth:`images` and the parameters of each (what :meth:`draw` gives, for a batch)."""
        return self._render([_check_index(i) for i in indices], with_params=True)

    def _render(self, indices: list[int], with_params: bool) -> tuple[np.ndarray, list[dict] | None]:
        out = None  # the batch's images: one family's array as it is, else (mixed families) gathered here
        params: list = [None] * len(indices) if with_params else None
        names = [self.pick_family(i) for i in indices]
        for name in dict.fromkeys(names):
            where = [k for k, n in enumerate(names) if n == name]
            idx = np.array([indices[k] for k in where], dtype=np.int64)
            drawn = FAMILIES[name].draw(self.sections[name], self.size, self.color, self.seed, idx,
                                        self.max_draws, with_params)
            for pos, reason in drawn.reasons.items():
                raise RenderError(
                    f"image {int(idx[pos])} of recipe {self.source or 'custom'!r}: none of {self.max_draws} draws "
                    f"passed the {name} quality gate (last: {reason}); loosen [{name}.gate] or raise max_draws")
            if len(where) == len(indices):
                out = drawn.images
            else:
                if out is None:  # (a second array allocated up front cost 7% at 36 px: page faults)
                    out = np.empty((len(indices), *self.shape), dtype=np.uint8)
                out[where] = drawn.images
            if with_params:
                for pos, k in enumerate(where):
                    params[k] = {"family": name, "seed": self.seed, "index": indices[k],
                                 "draws": int(drawn.draws[pos]), "render_version": RENDER_VERSION,
                                 **drawn.params[pos]}
        if out is None:  # no indices
            out = np.empty((0, *self.shape), dtype=np.uint8)
        return out, params

    # -- canonical form
    def to_dict(self) -> dict:
        """Canonical plain-data form (defaults filled in, only the families drawn from)."""
        out = section_to_dict(self.settings)
        for name, cfg in self.sections_used.items():
            out[name] = section_to_dict(cfg)
        return out

    @property
    def hash(self) -> str:
        """sha256 of the canonical form: two recipes with the same hash draw the same images."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_toml(self) -> str:
        """The canonical form as a TOML document that :func:`load_recipe` reads back to an equal recipe."""
        lines = _toml_lines("", self.settings)
        for name, cfg in self.sections_used.items():
            lines += _toml_lines(name, cfg)
        return "\n".join(lines).lstrip("\n") + "\n"

    def replace(self, overrides: Mapping[str, Any] | None = None, **top: Any) -> "Recipe":
        """A new recipe with settings changed (``size=128``, or dotted keys ``{"ifs.points": 2e5}``)."""
        return from_dict(_apply_overrides(self.to_dict(), overrides, top), self.source)


def _check_index(index: Any) -> int:
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not 0 <= index < 2**63:
        raise RecipeError(f"image index {index!r} is not a non-negative integer; pass 0, 1, 2, ...")
    return int(index)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml_lines(name: str, obj: Any) -> list[str]:
    """``[name]`` and its settings, then its sub-sections as ``[name.sub]`` tables."""
    lines = [""] + ([f"[{name}]"] if name else [])
    subs = []
    for f in dataclasses.fields(obj):
        if "section" in f.metadata:
            subs.append(f.name)
        else:
            lines.append(f"{f.name} = {_toml_value(section_to_dict(getattr(obj, f.name)))}")
    for sub in subs:
        lines += _toml_lines(f"{name}.{sub}" if name else sub, getattr(obj, sub))
    return lines


def _set_dotted(table: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    for part in parts[:-1]:
        node = table.get(part)
        if node is None:
            node = table[part] = {}
        elif not isinstance(node, dict):
            raise RecipeError(f"override '{key}': '{part}' is a setting, not a section; name a key inside a section")
        table = node
    table[parts[-1]] = value


def _plain_copy(value: Any) -> Any:
    """A deep copy with every mapping a dict and every list or tuple a list (leaves are shared: numbers,
    strings, and whatever else a caller passed, for the schema to judge)."""
    if isinstance(value, Mapping):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_copy(v) for v in value]
    return value


def _apply_overrides(table: dict, overrides: Mapping[str, Any] | None, top: Mapping[str, Any]) -> dict:
    """``table`` with the dotted ``overrides`` and the set-wide ``top`` settings applied: the one place where
    options (the API's keywords, the command line's --size / --seed / --gray and --set) meet a recipe.

    A ``None`` in ``top`` means "not given" and never hides an override of the same key (``--set size=32``
    without ``--size``); a key given twice with different values is an error, not a silent pick."""
    table = _plain_copy(table)
    merged = dict(overrides or {})
    for key, value in top.items():
        if value is None:
            continue
        if key in merged and merged[key] != value:
            raise RecipeError(f"recipe key '{key}' is given twice, as {short_repr(merged[key])} and "
                              f"{short_repr(value)}; give it once (e.g. --size or --set size=, not both)")
        merged[key] = value
    for key, value in merged.items():
        _set_dotted(table, key, value)
    return table


def from_dict(data: Mapping[str, Any], source: str = "") -> Recipe:
    """Validate a recipe given as plain data (a parsed TOML document, or a manifest's canonical recipe)."""
    if not isinstance(data, Mapping):
        raise RecipeError(f"a recipe must be a table of settings, got {type(data).__name__}")
    top = {k: v for k, v in data.items() if k not in FAMILIES}
    settings = parse_section(SetSettings, top, "", sections=tuple(FAMILIES))
    sections = {}
    for name, fam in FAMILIES.items():
        sections[name] = parse_section(fam.settings, data.get(name, {}), name)
        check = getattr(sections[name], "check", None)
        if check is not None:
            check(name)
    return Recipe(settings, sections, source)


def presets() -> dict[str, Path]:
    """Built-in presets by name."""
    return {p.stem: p for p in sorted(PRESET_DIR.glob("*.toml"))}


#: The other spelling of a word in preset names (both are accepted: ``ifs-color`` is ``ifs-colour``).
SPELLINGS = {"color": "colour", "grey": "gray"}


def preset_name(text: str) -> str:
    """The built-in preset's name for ``text`` written with either spelling (``ifs-color``, ``ifs-grey``), else
    ``text`` unchanged."""
    found = presets()
    if text in found:
        return text
    words = text.split("-")
    canonical = "-".join(SPELLINGS.get(w, w) for w in words)
    return canonical if canonical in found else text


def _read_toml(path: Path, label: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise RecipeError(f"recipe {label} is not valid TOML: {err}; fix the syntax at that line") from None
    except UnicodeDecodeError as err:
        raise RecipeError(f"recipe {label} is not UTF-8 text (byte {err.start}: {err.reason}); save it as UTF-8"
                          ) from None
    except OSError as err:
        raise RecipeError(f"cannot read recipe file '{path}': {err.strerror}; check the path") from None


def _resolve(source: str | os.PathLike) -> tuple[dict, str]:
    text = os.fspath(source)
    path = Path(text)
    if text.endswith(".toml") or os.sep in text or path.is_file():
        if not path.is_file():
            raise RecipeError(f"recipe file '{text}' not found; give a path to a .toml file or a preset name "
                              f"({', '.join(presets())})")
        return _read_toml(path, f"'{text}'"), text
    found = presets()
    text = preset_name(text)
    if text in found:
        return _read_toml(found[text], f"preset '{text}'"), text
    if text in FAMILIES:
        return {"family": text}, text
    raise RecipeError(f"unknown preset '{text}'; built-in presets: {', '.join(found)}; families: "
                      f"{', '.join(FAMILIES)}; or give the path to a .toml recipe")


def load_recipe(source: str | os.PathLike | Mapping | Recipe, *, overrides: Mapping[str, Any] | None = None,
                **top: Any) -> Recipe:
    """Load a recipe: a preset name (``"ifs-colour"``), a family name (its defaults), a ``.toml`` path, a
    mapping of settings, or a :class:`Recipe`; then apply overrides.

    ``top`` overrides set-wide settings (``size=256, seed=0, color=False``; ``None`` leaves a setting alone);
    ``overrides`` takes dotted keys into sections (``{"ifs.maps": [3, 3]}``).
    """
    if isinstance(source, Recipe):
        data, label = source.to_dict(), source.source
    elif isinstance(source, Mapping):
        data, label = dict(source), "custom"
    elif isinstance(source, (str, os.PathLike)):
        data, label = _resolve(source)
    else:
        raise RecipeError(f"cannot load a recipe from {type(source).__name__}; pass a preset name or a .toml path")
    return from_dict(_apply_overrides(data, overrides, top), label)


def recipe_keys() -> list[tuple[str, str, str, Any]]:
    """Every recipe key: (dotted key, accepted values, meaning, default)."""
    rows = describe(SetSettings)
    for name, fam in FAMILIES.items():
        rows += describe(fam.settings, name)
    return rows
