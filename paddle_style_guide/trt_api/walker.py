"""Abstract interpretation of Python source against one TensorRT API surface.

:class:`Walker` walks a module once per TensorRT version with that version's
:class:`~.surface.Surface`: it tracks which names are TensorRT modules, classes and
instances (types come from TensorRT itself: constructors, pybind11 return types,
annotations, ``self.x`` attributes, the repository's own modules), evaluates version
guards for that version, and reports attribute look-ups that the surface lacks.
Unknown receivers are not checked.  :mod:`.check` drives it over files and code blocks.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from .surface import Surface

# The module names users import -> the surface (public module) they resolve to.
MODULES = {
    "tensorrt": "tensorrt",
    "tensorrt_bindings": "tensorrt",
    "tensorrt_rtx": "tensorrt_rtx",
    "tensorrt_rtx_bindings": "tensorrt_rtx",
}
MAJOR_NAME = "TRT_MAJOR"
# A function parameter with one of these names (and no annotation) holds the TensorRT module: the demos pass
# ``tensorrt`` or ``tensorrt_rtx`` in, so one builder serves TensorRT 10, 11 and RTX.
MODULE_PARAMS = ("trt",)
EXITS = {"sys.exit", "exit", "quit", "os._exit", "pytest.skip", "pytest.exit"}


# --- abstract values ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Ref:
    """What an expression is known to be.

    kind: "module" | "class" | "instance" (of class ``qual``) | "callable" (returns an
    instance of ``qual``, or unknown if None) | "major" (the TensorRT major version) |
    "flag" (a guard already evaluated: ``value``) | "none" (the constant None) |
    "self" (``value``: the class's attribute types) | "project" (a repository module, file ``qual``).
    """

    kind: str
    module: str | None = None
    qual: str | None = None
    value: object = None


NONE = Ref("none")
MAJOR = Ref("major")


def _merge(a, b):
    """Join two abstract values at a control-flow merge (None = unknown)."""
    if a == b:
        return a
    if a is None or b is None:
        return None
    return a | b


def _merge_envs(envs: list[dict | None]) -> dict | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    out = dict(live[0])
    for env in live[1:]:
        for key in set(out) | set(env):
            if key in out and key in env:
                out[key] = _merge(out[key], env[key])
            elif key in env:
                out[key] = env[key]
    return out


class _ClassInfo:
    def __init__(self):
        self.attrs: dict[str, frozenset | None] = {}


class _Terminated(Exception):
    """Internal: the rest of a block is unreachable for this version."""


def _terminates(body: list[ast.stmt]) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return _dotted(last.value.func) in EXITS
    if isinstance(last, ast.If):
        return _terminates(last.body) and _terminates(last.orelse)
    return False


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return base + "." + node.attr if base else None
    return None


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_dotted(n) == "AttributeError" for n in names if n is not None)


def _local_names(body: list[ast.stmt]) -> set[str]:
    """Names bound in a function body (not descending into nested scopes)."""
    found: set[str] = set()
    declared_global: set[str] = set()

    def visit(node):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            return
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in body:
        visit(stmt)
    return found - declared_global


class Walker:
    """Walks one parsed source for one TensorRT version, reporting names missing there."""

    def __init__(self, surfaces: dict[str, Surface], report, source: str, note=None, project=None, path=None,
                 seen=None):
        self.surfaces = surfaces  # public module name -> Surface
        self.seen = seen  # seen(node, dotted_name, surface): a name found, not behind a hasattr/try guard
        self.project = project  # Project: names exported by the repository's own modules
        self.path = path  # this source's file, for relative imports (None for Markdown blocks)
        self.report = report  # report(node, dotted_name, receiver_text, surface): a missing name
        self.note = note  # note(node, dotted_name, version, surface): a name marked deprecated
        self.source = source
        self.suppress = 0
        self.facts: list[tuple[str, str, bool]] = []  # (expression dump, attribute, present?)
        self.deferred: list[tuple] = []  # (function node, outer env or None = module's final, class)
        self.depth = 0  # 0 while walking module-level code (class bodies included)
        self.uses = 0
        self._lines = None

    # -- entry ---------------------------------------------------------------------------------

    def run(self, tree: ast.Module, env: dict | None = None, bodies: bool = True) -> dict:
        """Walk a module; return its final module-level names. ``bodies=False`` skips functions."""
        env = dict(env or {})
        try:
            env = self.block(tree.body, env)
        except _Terminated:
            pass
        self.facts = []
        if not bodies:
            self.deferred = []
        # Function bodies run later: module-level functions see the module's final names,
        # nested ones the names of their enclosing function where they were defined.
        while self.deferred:
            node, outer, cls = self.deferred.pop(0)
            self.function_body(node, env if outer is None else outer, cls)
        return env

    # -- statements ------------------------------------------------------------------------------

    def block(self, body: list[ast.stmt], env: dict) -> dict:
        """Walk statements; raise _Terminated if the rest became unreachable."""
        for stmt in body:
            env = self.stmt(stmt, env)
            if env is None:
                raise _Terminated
        return env

    def sub_block(self, body, env, facts=()):
        """Walk a nested block; return its end env, or None if it never falls through."""
        mark = len(self.facts)
        self.facts.extend(facts)
        try:
            end = self.block(body, dict(env))
            return None if _terminates(body) else end
        except _Terminated:
            return None
        finally:
            del self.facts[mark:]

    def stmt(self, node: ast.stmt, env: dict) -> dict | None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, env)
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value, env)
            if value is None:
                value = self.guard_value(node.value, env)
            for target in node.targets:
                self.bind(target, value, env, node.value)
        elif isinstance(node, ast.AnnAssign):
            declared = self.annotation(node.annotation, env)
            value = self.expr(node.value, env) if node.value is not None else None
            self.bind(node.target, declared or value, env, node.value)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, env)
            self.expr(node.target, env, store=True)
            if isinstance(node.target, ast.Name):
                env[node.target.id] = None
        elif isinstance(node, ast.If):
            return self.if_stmt(node.test, node.body, node.orelse, env)
        elif isinstance(node, ast.While):
            self.expr(node.test, env)
            cond = self.guard(node.test, env)
            ends = [env]
            if cond is not False:
                ends.append(self.sub_block(node.body, env, self.facts_from(node.test, env, True)))
            ends.append(self.sub_block(node.orelse, env))
            return _merge_envs(ends) or env
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, env)
            inner = dict(env)
            self.bind(node.target, None, inner, None)
            ends = [env, self.sub_block(node.body, inner), self.sub_block(node.orelse, inner)]
            return _merge_envs(ends) or env
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            return self.try_stmt(node, env)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = self.expr(item.context_expr, env)
                if item.optional_vars is not None:
                    # TensorRT objects return themselves from __enter__.
                    keep = value if value and all(r.kind == "instance" for r in value) else None
                    self.bind(item.optional_vars, keep, env, None)
            end = self.sub_block(node.body, env)
            return end
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function_def(node, env, None)
        elif isinstance(node, ast.ClassDef):
            self.class_def(node, env)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expr(node.value, env)
            return None
        elif isinstance(node, ast.Raise):
            if node.exc is not None:
                self.expr(node.exc, env)
            return None
        elif isinstance(node, (ast.Continue, ast.Break)):
            return None
        elif isinstance(node, ast.Assert):
            self.expr(node.test, env)
            if self.guard(node.test, env) is False:
                return None
            self.facts.extend(self.facts_from(node.test, env, True))
        elif isinstance(node, ast.Expr):
            self.expr(node.value, env)
            if isinstance(node.value, ast.Call) and _dotted(node.value.func) in EXITS:
                return None
        elif isinstance(node, ast.Match):
            self.expr(node.subject, env)
            ends = [env] + [self.sub_block(case.body, env) for case in node.cases]
            return _merge_envs(ends) or env
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    env.pop(target.id, None)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, env)
        return env

    def if_stmt(self, test, body, orelse, env):
        self.expr(test, env)
        cond = self.guard(test, env)
        then_env = self.sub_block(body, env, self.facts_from(test, env, True)) if cond is not False else None
        else_env = self.sub_block(orelse, env, self.facts_from(test, env, False)) if cond is not True else None
        merged = _merge_envs([then_env, else_env])
        if merged is None:
            return None  # neither branch falls through
        if then_env is None and cond is not False:
            # ``if not ok: return`` -- what follows may rely on the test being false.
            self.facts.extend(self.facts_from(test, env, False))
        if else_env is None and orelse and cond is not True:
            self.facts.extend(self.facts_from(test, env, True))
        return merged

    def try_stmt(self, node, env):
        guarded = any(_catches_attribute_error(h) for h in node.handlers)
        self.suppress += guarded
        try:
            body_end = self.sub_block(node.body, env)
        finally:
            self.suppress -= guarded
        ends = []
        if body_end is not None:
            ends.append(self.sub_block(node.orelse, body_end) if node.orelse else body_end)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, env)
            inner = dict(env)
            if handler.name:
                inner[handler.name] = None
            ends.append(self.sub_block(handler.body, inner))
        merged = _merge_envs(ends)
        if node.finalbody:
            self.sub_block(node.finalbody, merged or env)
        return merged

    def imports(self, node, env):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root not in MODULES:
                    own = self.project.module(alias.name if alias.asname else root) if self.project else None
                    if alias.asname or root not in env:
                        env[alias.asname or root] = frozenset({own}) if own else None
                    continue
                module = MODULES[root]
                if module not in self.surfaces:
                    env[alias.asname or root] = None
                    continue
                ref = frozenset({Ref("module", module, module)})
                if alias.asname:
                    # import tensorrt.plugin as trtp -> trtp is the submodule
                    for part in alias.name.split(".")[1:]:
                        ref = self.attribute(ref, part, node, alias.name)
                    env[alias.asname] = ref
                else:
                    for part in alias.name.split(".")[1:]:
                        self.attribute(ref, part, node, alias.name)
                    env[root] = ref
            return
        root = (node.module or "").split(".")[0]
        if node.level or root not in MODULES:
            base = self.project.module(node.module or "", node.level, self.path) if self.project else None
            for alias in node.names:
                value = None
                if base is not None and alias.name != "*":
                    value = self.attribute(frozenset({base}), alias.name, None, None, quiet=True)
                env[alias.asname or alias.name] = value
            return
        module = MODULES[root]
        if module not in self.surfaces:
            for alias in node.names:
                env[alias.asname or alias.name] = None
            return
        ref = frozenset({Ref("module", module, module)})
        for part in node.module.split(".")[1:]:
            ref = self.attribute(ref, part, node, node.module)
        for alias in node.names:
            if alias.name == "*":
                continue
            env[alias.asname or alias.name] = self.attribute(ref, alias.name, node, f"{node.module}.{alias.name}")

    def bind(self, target, value, env, value_node):
        if isinstance(target, ast.Name):
            if value is None and value_node is not None and self.is_major_expr(value_node, env):
                value = frozenset({MAJOR})
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value_node.elts if isinstance(value_node, (ast.Tuple, ast.List)) else None
            for i, elt in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts) and not isinstance(elt, ast.Starred):
                    self.bind(elt, self.expr(values[i], env, visit=False), env, values[i])
                else:
                    self.bind(elt.value if isinstance(elt, ast.Starred) else elt, None, env, None)
        elif isinstance(target, ast.Attribute):
            base = self.expr(target.value, env)
            if base and any(r.kind == "self" for r in base):
                for r in base:
                    if r.kind == "self":
                        info = r.value
                        info.attrs[target.attr] = (
                            _merge(info.attrs[target.attr], value) if target.attr in info.attrs else value
                        )
            self.attribute(base, target.attr, target, None)
        elif isinstance(target, ast.Subscript):
            self.expr(target.value, env)
            self.expr(target.slice, env)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, env, None)

    def function_def(self, node, env, cls):
        for deco in node.decorator_list:
            self.expr(deco, env)
        args = node.args
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.expr(default, env)
        returns = self.annotation(node.returns, env) if node.returns is not None else None
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]:
            if arg.annotation is not None:
                self.annotation(arg.annotation, env)
        if returns:
            env[node.name] = frozenset(Ref("callable", r.module, r.qual) for r in returns)
        else:
            env[node.name] = None
        self.deferred.append((node, None if self.depth == 0 else env, cls))

    def function_body(self, node, outer, cls):
        env = dict(outer)
        for name in _local_names(node.body):
            env.pop(name, None)
        args = node.args
        positional = args.posonlyargs + args.args
        static = any(_dotted(d) == "staticmethod" for d in node.decorator_list)
        for i, arg in enumerate(positional + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]):
            value = None
            if arg.annotation is not None and arg not in (args.vararg, args.kwarg):
                value = self.annotation(arg.annotation, env, visit=False)
            if i == 0 and cls is not None and not static and arg in positional:
                value = frozenset({Ref("self", value=cls)})
            if value is None and arg.arg in MODULE_PARAMS and "tensorrt" in self.surfaces:
                value = frozenset({Ref("module", "tensorrt", "tensorrt")})
            env[arg.arg] = value
        saved = self.facts
        self.facts = []
        self.depth += 1
        try:
            self.block(node.body, env)
        except _Terminated:
            pass
        finally:
            self.facts = saved
            self.depth -= 1

    def class_def(self, node, env):
        for expr in node.bases + [k.value for k in node.keywords] + node.decorator_list:
            self.expr(expr, env)
        info = _ClassInfo()
        inner = dict(env)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function_def(stmt, inner, info)
                # Methods see the enclosing scope, not the class body.
                self.deferred[-1] = (stmt, None if self.depth == 0 else env, info)
            else:
                try:
                    inner = self.stmt(stmt, inner) or inner
                except _Terminated:
                    break
        env[node.name] = None

    # -- annotations -----------------------------------------------------------------------------

    def annotation(self, node, env, visit=True):
        """Instances described by an annotation (``trt.X``, ``Optional[trt.X]``, ``"trt.X"``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            ast.copy_location(parsed, node)
            for sub in ast.walk(parsed):
                ast.copy_location(sub, node)
            node = parsed
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left = self.annotation(node.left, env, visit)
            right = self.annotation(node.right, env, visit)
            return left or right
        if isinstance(node, ast.Subscript) and _dotted(node.value) in ("Optional", "typing.Optional"):
            return self.annotation(node.slice, env, visit)
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        value = self.expr(node, env) if visit else self.expr(node, env, visit=False)
        if value and all(r.kind == "class" for r in value):
            return frozenset(Ref("instance", r.module, r.qual) for r in value)
        return None

    # -- expressions -----------------------------------------------------------------------------

    def text(self, node) -> str:
        """Source text of ``node`` (only computed when a problem is reported)."""
        if self._lines is None:
            self._lines = self.source.splitlines(keepends=True)
        if getattr(node, "end_lineno", None) is None:
            return _dotted(node) or ""
        lines = self._lines[node.lineno - 1 : node.end_lineno]
        if not lines:
            return _dotted(node) or ""
        if len(lines) == 1:
            return lines[0].encode()[node.col_offset : node.end_col_offset].decode(errors="replace")
        first = lines[0].encode()[node.col_offset :].decode(errors="replace")
        last = lines[-1].encode()[: node.end_col_offset].decode(errors="replace")
        return first + "".join(lines[1:-1]) + last

    def expr(self, node, env, store=False, visit=True):
        """Abstract value of ``node`` (frozenset of Ref, or None = unknown); reports misses."""
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.Constant):
            return frozenset({NONE}) if node.value is None else None
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value, env, visit=visit)
            if not visit:
                return self.attribute(base, node.attr, None, None, quiet=True)
            return self.attribute(base, node.attr, node, None, quiet=self.known_present(node.value, node.attr))
        if isinstance(node, ast.Call):
            return self.call(node, env, visit)
        if isinstance(node, ast.IfExp):
            self.expr(node.test, env, visit=visit)
            cond = self.guard(node.test, env)
            arms = []
            mark = len(self.facts)
            if cond is not False:
                self.facts.extend(self.facts_from(node.test, env, True))
                arms.append(self.expr(node.body, env, visit=visit))
                del self.facts[mark:]
            if cond is not True:
                self.facts.extend(self.facts_from(node.test, env, False))
                arms.append(self.expr(node.orelse, env, visit=visit))
                del self.facts[mark:]
            out = arms[0]
            for arm in arms[1:]:
                out = _merge(out, arm)
            return out
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = dict(env)
            for gen in node.generators:
                self.expr(gen.iter, inner, visit=visit)
                self.bind(gen.target, None, inner, None)
                for cond in gen.ifs:
                    self.expr(cond, inner, visit=visit)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, inner, visit=visit)
                self.expr(node.value, inner, visit=visit)
            else:
                self.expr(node.elt, inner, visit=visit)
            return None
        if isinstance(node, ast.Lambda):
            inner = dict(env)
            for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
                inner[arg.arg] = None
            self.expr(node.body, inner, visit=visit)
            return None
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value, env, visit=visit)
            env[node.target.id] = value
            return value
        if visit:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, env)
                elif isinstance(child, ast.comprehension):
                    self.expr(child.iter, env)
                elif isinstance(child, ast.keyword):
                    self.expr(child.value, env)
        return None

    def call(self, node, env, visit=True):
        func = _dotted(node.func)
        args = node.args
        # hasattr(x, "NAME") / getattr(x, "NAME", default) do not use NAME unconditionally.
        if func in ("hasattr", "getattr") and len(args) >= 2 and isinstance(args[1], ast.Constant):
            base = self.expr(args[0], env, visit=visit)
            for extra in args[2:]:
                self.expr(extra, env, visit=visit)
            if func == "getattr" and len(args) == 2 and isinstance(args[1].value, str):
                return self.attribute(base, args[1].value, node if visit else None, None, quiet=not visit)
            return None
        if func in ("importlib.import_module", "pytest.importorskip", "__import__") and args:
            if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                name = args[0].value
                root = name.split(".")[0]
                if root in MODULES and MODULES[root] in self.surfaces:
                    ref = frozenset({Ref("module", MODULES[root], MODULES[root])})
                    for part in name.split(".")[1:]:
                        ref = self.attribute(ref, part, node if visit else None, name, quiet=not visit)
                    return ref
        target = self.expr(node.func, env, visit=visit)
        if visit:
            for arg in args:
                self.expr(arg.value if isinstance(arg, ast.Starred) else arg, env)
            for kw in node.keywords:
                self.expr(kw.value, env)
        if not target:
            return None
        out = set()
        for ref in target:
            if ref.kind == "class":
                out.add(Ref("instance", ref.module, ref.qual))
            elif ref.kind == "callable" and ref.qual:
                out.add(Ref("instance", ref.module, ref.qual))
            elif ref.kind == "none":
                continue
            else:
                return None
        return frozenset(out) or None

    def attribute(self, base, attr, node, text, quiet=False):
        """Look ``attr`` up on every possibility of ``base``; report where it is missing."""
        if not base:
            return None
        out = set()
        unknown = False
        for ref in base:
            if ref.kind == "self":
                value = ref.value.attrs.get(attr)
                if value:
                    out |= value
                else:
                    unknown = True
                continue
            if ref.kind == "project":
                value = self.project.attribute(ref, attr, self.surfaces) if self.project else None
                if value:
                    out |= value
                else:
                    unknown = True
                continue
            if ref.kind not in ("module", "class", "instance"):
                if ref.kind != "none":
                    unknown = True
                continue
            surface = self.surfaces.get(ref.module)
            if surface is None or surface.entry(ref.qual) is None:
                unknown = True
                continue
            self.uses += 1
            found = surface.member(ref.qual, attr)
            if found is None:
                dynamic = ref.kind == "instance" and surface.dynamic(ref.qual)
                if not quiet and not self.suppress and node is not None and not dynamic:
                    # Name the receiver when it is a variable, not a module path.
                    via = (text if text is not None else self.text(node)) if ref.kind == "instance" else None
                    self.report(node, f"{ref.qual}.{attr}", via, surface)
                unknown = True
                continue
            kind, target = found
            if self.seen and not quiet and not self.suppress and node is not None:
                self.seen(node, f"{ref.qual}.{attr}", surface)
            deprecated = surface.deprecated(ref.qual, attr)
            if deprecated is not None and self.note and not quiet and node is not None:
                self.note(node, f"{ref.qual}.{attr}", deprecated, surface)
            if kind in ("module", "class", "enum") and target:
                out.add(Ref("module" if kind == "module" else "class", ref.module, target))
            elif kind == "value" and target:
                out.add(Ref("instance", ref.module, target))
            elif kind == "property" and target and ref.kind == "instance":
                out.add(Ref("instance", ref.module, target))
            elif kind == "method":
                out.add(Ref("callable", ref.module, target))
            else:
                unknown = True
        if unknown:
            return None
        return frozenset(out) or None

    # -- guards ------------------------------------------------------------------------------------

    def is_major_expr(self, node, env) -> bool:
        """``int(trt.__version__.split(".")[0])`` and the like."""
        if not (isinstance(node, ast.Call) and _dotted(node.func) == "int"):
            return False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr == "__version__":
                base = self.expr(sub.value, env, visit=False)
                if base and any(r.kind == "module" and r.module == "tensorrt" for r in base):
                    return True
        return False

    def major_of(self, node, env):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        value = self.expr(node, env, visit=False)
        if value == frozenset({MAJOR}) or (value is None and (_dotted(node) or "").split(".")[-1] == MAJOR_NAME):
            surface = self.surfaces.get("tensorrt")
            return surface.major if surface else None
        return None

    def guard_value(self, node, env):
        cond = self.guard(node, env)
        return None if cond is None else frozenset({Ref("flag", value=cond)})

    def guard(self, node, env):
        """True/False if ``node`` is a version guard decided for this version, else None."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.guard(node.operand, env)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            values = [self.guard(v, env) for v in node.values]
            if isinstance(node.op, ast.And):
                return False if False in values else True if all(v is True for v in values) else None
            return True if True in values else False if all(v is False for v in values) else None
        if isinstance(node, ast.Name):
            value = env.get(node.id)
            if value and len(value) == 1:
                (ref,) = value
                if ref.kind == "flag":
                    return ref.value
            return None
        if isinstance(node, ast.Call) and _dotted(node.func) == "hasattr" and len(node.args) == 2:
            return self.presence(node.args[0], node.args[1], env)
        if isinstance(node, ast.Compare):
            # getattr(x, "NAME", None) is not None
            if (
                len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Is, ast.IsNot))
                and isinstance(node.comparators[0], ast.Constant)
                and node.comparators[0].value is None
                and isinstance(node.left, ast.Call)
                and _dotted(node.left.func) == "getattr"
                and len(node.left.args) == 3
            ):
                present = self.presence(node.left.args[0], node.left.args[1], env)
                if present is None:
                    return None
                return present if isinstance(node.ops[0], ast.IsNot) else not present
            operands = [node.left] + node.comparators
            values = [self.major_of(o, env) for o in operands]
            if None in values or not any(self.major_of(o, env) is not None and not isinstance(o, ast.Constant) for o in operands):
                return None
            ops = {ast.Lt: int.__lt__, ast.LtE: int.__le__, ast.Gt: int.__gt__, ast.GtE: int.__ge__,
                   ast.Eq: int.__eq__, ast.NotEq: int.__ne__}  # fmt: skip
            result = True
            for op, a, b in zip(node.ops, values, values[1:]):
                fn = ops.get(type(op))
                if fn is None:
                    return None
                result = result and fn(a, b)
            return result
        return None

    def presence(self, obj, name, env):
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return None
        base = self.expr(obj, env, visit=False)
        if not base:
            return None
        answers = set()
        for ref in base:
            if ref.kind not in ("module", "class", "instance"):
                return None
            surface = self.surfaces.get(ref.module)
            if surface is None or surface.entry(ref.qual) is None:
                return None
            answers.add(surface.member(ref.qual, name.value) is not None)
        return answers.pop() if len(answers) == 1 else None

    def facts_from(self, node, env, truth):
        """Attribute presence implied by ``node`` having truth value ``truth``."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.facts_from(node.operand, env, not truth)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And) == truth:
                return [f for v in node.values for f in self.facts_from(v, env, truth)]
            return []
        if (
            isinstance(node, ast.Call)
            and _dotted(node.func) == "hasattr"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and _dotted(node.args[0])
        ):
            return [(_dotted(node.args[0]), node.args[1].value, truth)]
        return []

    def known_present(self, obj, attr) -> bool:
        key = _dotted(obj)
        return key is not None and any(f == (key, attr, True) for f in self.facts)


class Project:
    """Names that the repository's own modules bind at module level, for ``from demos.x import trt``.

    A module is walked once per TensorRT version (module-level code only, nothing reported)
    and its final names are reused; import cycles resolve to unknown.
    """

    def __init__(self, root: Path):
        self.root = root
        self.exports: dict[tuple[Path, int], dict | None] = {}

    def module(self, dotted: str, level: int = 0, here: Path | None = None) -> Ref | None:
        """A Ref to the repository module ``dotted`` (relative to ``here`` when ``level``)."""
        if level:
            if here is None:
                return None
            base = here.parent
            for _ in range(level - 1):
                base = base.parent
        else:
            base = self.root
        target = base.joinpath(*[p for p in dotted.split(".") if p])
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if candidate.is_file() and self.root in candidate.resolve().parents:
                return Ref("project", qual=str(candidate.resolve()))
        return None

    def attribute(self, ref: Ref, attr: str, surfaces: dict) -> frozenset | None:
        path = Path(ref.qual)
        if path.name == "__init__.py":
            sub = self.module(attr, 1, path)
            if sub is not None:
                return frozenset({sub})
        key = (path, id(surfaces))
        if key not in self.exports:
            self.exports[key] = None  # in progress: a cycle sees unknown names
            try:
                source = path.read_text(encoding="utf-8")
                tree = ast.parse(source)
            except (OSError, UnicodeDecodeError, SyntaxError):
                return None
            walker = Walker(surfaces, lambda *a: None, source, project=self, path=path)
            walker.suppress = 1
            self.exports[key] = walker.run(tree, bodies=False)
        env = self.exports[key]
        return env.get(attr) if env else None
