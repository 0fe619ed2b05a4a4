"""Dump the public API surface of one TensorRT binding package as JSON.

Run as a script in a fresh interpreter, one per TensorRT version, because every
version wants the module name ``tensorrt``::

    python _introspect.py PACKAGE PUBLIC_NAME OUT.json [SITE_DIR]

``PACKAGE`` is the importable binding package (``tensorrt_bindings`` or
``tensorrt_rtx_bindings``); ``PUBLIC_NAME`` is the name users import
(``tensorrt`` or ``tensorrt_rtx``), which re-exports the package with
``from PACKAGE import *``.  ``SITE_DIR`` (an unpacked wheel) goes first on
``sys.path``.  The script only reads attributes and docstrings:
it never instantiates a TensorRT object, so the stub ``libnvinfer`` that lets
the extension load is never called.

Output: ``{"module", "version", "objects"}`` where ``objects`` maps a public
dotted name (``tensorrt.Builder``) to ``{"kind": "module"|"class"|"enum",
"members": {name: [member_kind, target, deprecated]}}``.  ``target`` is the
public dotted name of a class (the type of an enum value or property, the
return type of a method) or ``null`` when unknown.  ``deprecated`` is the
version from a ``[DEPRECATED] Deprecated in TensorRT X.Y`` note in the
docstrings (``""`` if the note names no version), else ``null``.  This file
imports nothing from the project.
"""

import importlib
import inspect
import json
import re
import sys
import types

SCHEMA = 1
# The note must open a line (optionally after the ``:class:`T``` of an ``:ivar:``), so
# that a description merely mentioning some other deprecated API does not count.
DEPRECATED = re.compile(
    r"(?:^|\n)[ \t]*(?::class:`[^`]*`[ \t]*)?\[DEPRECATED\][ \t]*(?:Deprecated in TensorRT ([0-9][0-9.]*[0-9]))?"
)
# Functions whose pybind11 signature names no Python type (``-> detail::accessor<...>``: the C++ side looks
# the object up at run time), with the class their docstring describes ("Return the plugin registry ...").
UNTYPED_RETURNS = {"get_plugin_registry": "IPluginRegistry"}


def deprecation(text):
    """The version in a ``[DEPRECATED]`` note of ``text``; "" without one; None if no note."""
    m = DEPRECATED.search((text or "").strip())
    return None if m is None else (m.group(1) or "")


def documented_members(cls):
    """Per-member notes from a class docstring: ``:ivar name: ...`` and enum ``NAME : ...`` lines."""
    doc = getattr(cls, "__doc__", None) or ""
    notes = {}
    for m in re.finditer(r":ivar (\w+):(.*?)(?=:ivar |\Z)", doc, re.S):
        notes[m.group(1)] = m.group(2)
    if "Members:" in doc:
        current = None
        for line in doc.split("Members:", 1)[1].splitlines():
            m = re.match(r"^\s{1,4}(\w+) : (.*)$", line)
            if m:
                current = m.group(1)
                notes[current] = m.group(2)
            elif current and line.strip():
                notes[current] += "\n" + line.strip()
    return notes


def main(package, public, out_path, site_dir=None):
    if site_dir:
        sys.path.insert(0, site_dir)  # the unpacked wheel wins over anything installed
    mod = importlib.import_module(package)
    # ``tensorrt.plugin`` does ``import tensorrt as trt``; the meta package that
    # provides the name ``tensorrt`` is a thin ``from tensorrt_bindings import *``.
    sys.modules.setdefault(public, mod)
    submodules = {}
    try:
        submodules["plugin"] = importlib.import_module(package + ".plugin")
    except ImportError:
        pass

    objects = {}
    by_type = {}  # id(class) -> public dotted name

    def own(obj):
        return getattr(obj, "__module__", "") and obj.__module__.split(".")[0] == package

    def star_names(module):
        """What ``from module import *`` copies: ``__all__``, else every non-underscore name.

        Without ``__all__``, the modules it drags along (``os``, ``sys``) are noise and dropped;
        a module object listed in ``__all__`` (``tensorrt.plugin.op``) is kept as a value.
        """
        listed = getattr(module, "__all__", None)
        if listed is not None:
            return {k: getattr(module, k) for k in listed}
        return {k: v for k, v in vars(module).items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}

    top = star_names(mod)
    top["__version__"] = mod.__version__
    for key, sub in submodules.items():
        top[key] = sub

    # First pass: assign public names to every class reachable from the module,
    # so return types can be mapped whatever order members are visited in.
    def reach(prefix, namespace):
        for key, value in namespace.items():
            if isinstance(value, type) and own(value) and id(value) not in by_type:
                by_type[id(value)] = prefix + "." + key
                reach(prefix + "." + key, {k: v for k, v in vars(value).items() if isinstance(v, type)})

    reach(public, top)
    for key, sub in submodules.items():
        reach(public + "." + key, star_names(sub))

    classes = {}

    def collect(prefix, namespace):
        for key, value in namespace.items():
            if isinstance(value, type) and own(value) and by_type.get(id(value)) == prefix + "." + key:
                classes[prefix + "." + key] = value
                collect(prefix + "." + key, {k: v for k, v in vars(value).items() if isinstance(v, type)})

    collect(public, top)
    for key, sub in submodules.items():
        collect(public + "." + key, star_names(sub))

    # Map the names used in pybind11 signatures (tensorrt_bindings.tensorrt.X)
    # to public names (tensorrt.X).
    signature_names = {}
    for name, cls in classes.items():
        qual = getattr(cls, "__module__", "") + "." + getattr(cls, "__qualname__", cls.__name__)
        signature_names[qual] = name
    classes_by_short = {name.rsplit(".", 1)[1]: name for name in classes if name.count(".") == 1}

    def type_of(text):
        if not text:
            return None
        text = text.strip()
        m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
        if m:
            text = m.group(1)
        return signature_names.get(text)

    def returns(doc, name):
        """Return type from a pybind11 docstring; None if absent or ambiguous."""
        if not doc:
            return None
        found = set()
        pattern = re.compile(r"^(?:\d+\. )?" + re.escape(name) + r"\(.*\) -> (.+)$")
        for line in doc.splitlines():
            m = pattern.match(line.strip())
            if m:
                untyped = m.group(1).strip().startswith("detail::accessor") and name in UNTYPED_RETURNS
                found.add(classes_by_short.get(UNTYPED_RETURNS[name]) if untyped else type_of(m.group(1)))
        return found.pop() if len(found) == 1 else None

    def property_type(prop):
        doc = getattr(getattr(prop, "fget", None), "__doc__", None) or ""
        m = re.match(r"^\(.*\) -> (.+)$", doc.strip().splitlines()[0] if doc.strip() else "")
        return type_of(m.group(1)) if m else None

    def describe(key, value):
        """[kind, target] for attribute ``key`` whose static value is ``value``."""
        if isinstance(value, types.ModuleType):
            return ["value", None]  # a module-like object whose attributes appear at run time
        if isinstance(value, type):
            target = by_type.get(id(value))
            if target is not None and target in classes:
                return ["enum" if hasattr(value, "__members__") else "class", target]
            return ["class", None]
        if isinstance(value, property):
            return ["property", property_type(value)]
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if callable(value) and not isinstance(value, type):
            if type(value).__name__ in ("instancemethod", "builtin_function_or_method", "function",
                                        "method", "method_descriptor", "wrapper_descriptor",
                                        "method-wrapper", "classmethod_descriptor", "cython_function_or_method"):
                return ["method", returns(getattr(value, "__doc__", None), key)]
        target = by_type.get(id(type(value)))
        if type(value).__name__ == "pybind11_static_property":
            return ["property", None]
        return ["value", target if target in classes else None]

    notes_cache = {}

    def static_members(cls):
        out = {}
        for key in dir(cls):
            for base in inspect.getmro(cls):
                if key in vars(base):
                    value = vars(base)[key]
                    if id(base) not in notes_cache:
                        notes_cache[id(base)] = documented_members(base)
                    note = notes_cache[id(base)].get(key)
                    if note is None and not isinstance(value, (property, type)):
                        note = getattr(value, "__doc__", None) if callable(value) else None
                    out[key] = describe(key, value) + [None if key.startswith("__") else deprecation(note)]
                    break
            else:
                out[key] = ["value", None, None]
        return out

    def module_entry(namespace, prefix, module):
        # Every module has __name__, __file__, __doc__, ... whatever ``import *`` copies.
        members = {k: ["value", None, None] for k in dir(module) if k.startswith("__") and k.endswith("__")}
        for key, value in namespace.items():
            if isinstance(value, types.ModuleType) and value in submodules.values():
                members[key] = ["module", prefix + "." + key, None]
            else:
                doc = getattr(value, "__doc__", None) if callable(value) else None
                if isinstance(value, type):
                    # A class is deprecated when its docstring opens with the note.
                    doc = doc if (doc or "").strip().startswith("[DEPRECATED]") else None
                members[key] = describe(key, value) + [deprecation(doc) if not key.startswith("_") else None]
        return {"kind": "module", "members": members}

    objects[public] = module_entry(top, public, mod)
    for key, sub in submodules.items():
        objects[public + "." + key] = module_entry(star_names(sub), public + "." + key, sub)
    for name, cls in classes.items():
        objects[name] = {
            "kind": "enum" if hasattr(cls, "__members__") else "class",
            "members": static_members(cls),
            # Instances of classes written in Python (tensorrt.plugin) or with a __dict__ get
            # attributes at run time that dir(class) cannot show.
            "dynamic": type(cls).__name__ != "pybind11_type" or "__dict__" in dir(cls),
        }

    surface = {
        "schema": SCHEMA,
        "module": public,
        "package": package,
        "version": str(mod.__version__),
        "python": "%d.%d" % sys.version_info[:2],
        "objects": dict(sorted(objects.items())),
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(surface, fh, indent=0, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
