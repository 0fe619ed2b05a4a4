"""The API surface of one TensorRT version, as recorded by ``_introspect.py``."""

from __future__ import annotations

# Member kinds whose target names an object with members of its own.
CONTAINERS = ("module", "class", "enum")


class Surface:
    """Lookup of names in one introspected binding module.

    ``objects`` maps a public dotted name (``tensorrt.Builder``) to
    ``{"kind", "members": {name: [kind, target, deprecated]}}``; see ``_introspect.py``.
    """

    def __init__(self, key: str, module: str, product: str, version: str, objects: dict):
        self.key = key
        self.module = module
        self.product = product
        self.version = version
        self.objects = objects

    def __repr__(self) -> str:
        return f"Surface({self.label})"

    @property
    def label(self) -> str:
        return f"{self.product} {self.version}"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def entry(self, qualname: str) -> dict | None:
        return self.objects.get(qualname)

    def member(self, qualname: str, name: str) -> tuple[str, str | None] | None:
        """(kind, target) of attribute ``name`` of object ``qualname``, or None if absent."""
        entry = self.objects.get(qualname)
        if entry is None:
            return None
        found = entry["members"].get(name)
        return (found[0], found[1]) if found is not None else None

    def dynamic(self, qualname: str) -> bool:
        """Whether instances of class ``qualname`` can have attributes ``dir()`` does not show."""
        entry = self.objects.get(qualname)
        return bool(entry and entry.get("dynamic"))

    def deprecated(self, qualname: str, name: str) -> str | None:
        """Version in the member's ``[DEPRECATED]`` docstring note ("" if none given), or None."""
        entry = self.objects.get(qualname)
        found = entry["members"].get(name) if entry else None
        return found[2] if found is not None and len(found) > 2 else None

    def resolve(self, dotted: str) -> tuple[str, str | None] | None:
        """(kind, target) of a dotted name like ``tensorrt.BuilderFlag.FP16``; None if absent.

        The first part must be this surface's module.  Walking through a value
        or property continues in the class of its type when that is known.
        """
        parts = dotted.split(".")
        if parts[0] != self.module:
            return None
        found: tuple[str, str | None] = ("module", self.module)
        for part in parts[1:]:
            kind, target = found
            if target is None or target not in self.objects:
                return None
            step = self.member(target, part)
            if step is None:
                return None
            found = step
        return found

    def deprecation(self, dotted: str) -> str | None:
        """Deprecation note of the last part of a dotted name (see :meth:`deprecated`)."""
        owner, _, name = dotted.rpartition(".")
        found = self.resolve(owner) if owner != self.module else ("module", self.module)
        if found is None or found[1] is None:
            return None
        return self.deprecated(found[1], name)

    def has(self, dotted: str) -> bool:
        return self.resolve(dotted) is not None

    def names(self) -> set[str]:
        """Every ``object.member`` dotted name, for diffs between versions."""
        return {f"{q}.{m}" for q, e in self.objects.items() for m in e["members"]}
