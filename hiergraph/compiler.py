"""The Gibbs compiler: a model graph becomes a Plan, an ordered list of vectorised update steps.

For each stochastic group, its latent elements split in two: those with an observed
descendant are updated by MCMC; the rest are drawn forward from their prior each sweep
(they do not change what the data say). For the MCMC elements the first sampler that
applies wins, most specific first:

1. a block with other normal-prior groups that share generalised-linear children
   (:mod:`hiergraph.blocks`): regression coefficients and random effects drawn jointly;
2. a conjugate rule (:mod:`hiergraph.conjugacy`): a direct draw;
3. a discrete node with at most ``FINITE_LIMIT`` possible values: exact enumeration;
4. a scalar node: slice sampling (on an auxiliary continuous variable if discrete); a
   multivariate normal node: elliptical slice sampling.

A caller may force a sampler on a group (``overrides={"theta[j]": "rw_metropolis"}``).
Each group's elements are split into the colours of their conflict graph
(:mod:`hiergraph.blanket`), one array step per colour. Steps run deepest groups first, as JAGS
runs samplers nearer the data first; forward draws run last, parents first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .blanket import blankets, downstream
from .blocks import BlockStep, find_blocks
from .collapsed import CollapsedSliceStep, collapsible_layers, drop_superseded_draws
from .conjugacy import ConjugateStep, DirichletStep, WishartStep, match
from .consistency import known_parameters
from .errors import ModelError
from .model_graph import ModelGraph, NodeGroup
from .scale_move import scale_moves
from .samplers import EllipticalSliceStep, FiniteStep, ForwardStep, MetropolisStep, SliceStep

FINITE_LIMIT = 50
SAMPLERS = ("conjugate", "finite_enumeration", "slice", "rw_metropolis", "elliptical_slice")


@dataclass(eq=False)
class GroupPlan:
    """What the compiler decided for one group, as the compile report prints it."""

    group: NodeGroup
    sampler: str
    steps: list = field(default_factory=list)
    mcmc_rows: int = 0
    forward_rows: int = 0
    why_not_conjugate: str = ""
    block: tuple = ()  # the names of the groups drawn jointly with this one
    follow_up: tuple | None = None  # those drawn with it again, given the rest of the block
    collapsed: tuple = ()  # the conjugate child groups integrated out in its update
    scale_move: str = ""  # the effects moved jointly with this scale node (:mod:`scale_move`)


@dataclass(eq=False)
class Plan:
    groups: list[GroupPlan]
    steps: list  # MCMC steps, in sweep order
    forward: list  # forward draws, parents first

    def __str__(self) -> str:
        header = ("node group", "sampler", "elements", "steps", "note")
        rows = [header]
        for plan in self.groups:
            elements = str(plan.mcmc_rows)
            if plan.forward_rows:
                elements += f" (+{plan.forward_rows} forward)"
            note = f"not conjugate: {plan.why_not_conjugate}" if plan.why_not_conjugate else ""
            steps = str(len(plan.steps))
            if plan.block:
                steps, note = "1", f"one block with {', '.join(plan.block)}"
            if plan.follow_up is not None:
                note += (f"; then, if that block accepts rarely, again with {', '.join(plan.follow_up) or 'no other'}"
                         f" given the rest")
            if plan.collapsed:
                note = f"{', '.join(plan.collapsed)} integrated out; {note}".rstrip("; ")
            if plan.scale_move:
                note = f"then moved jointly with {plan.scale_move}; {note}".rstrip("; ")
            rows.append((plan.group.name, plan.sampler, elements, steps, note))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def observed_descendants(model: ModelGraph) -> dict[str, np.ndarray]:
    """For each group, per element: does an observed stochastic node depend on it?"""
    reached = {g.name: np.zeros(g.size, bool) for g in model.groups}
    order = model.graph.subgraph(reached).copy()
    order.remove_edges_from(nx.selfloop_edges(order))
    for name in reversed(list(nx.topological_sort(order))):
        for _ in range(model.group(name).size if model.graph.has_edge(name, name) else 1):
            before = reached[name].copy()
            for child in model.graph.successors(name):
                data = model.graph.edges[name, child]
                child_group = model.group(child)
                hit = reached[child][data["child_rows"]]
                if child_group.kind == "stochastic":
                    hit = hit | child_group.observed[data["child_rows"]]
                reached[name][data["parent_rows"][hit]] = True
            if (reached[name] == before).all():
                break
    return reached


def compile_plan(model: ModelGraph, chains: int, overrides: dict | None = None) -> Plan:
    overrides = overrides or {}
    unknown = set(overrides) - {g.name for g in model.groups}
    if unknown:
        raise ModelError(f"cannot set the sampler of {', '.join(sorted(unknown))}: no such node group "
                         f"(the groups are {', '.join(g.name for g in model.groups)})")
    informed = observed_descendants(model)
    latent = [g for g in model.groups if g.kind == "stochastic" and not g.observed.all()]
    mcmc_rows = {g.name: np.flatnonzero(~g.observed & informed[g.name]) for g in latent}
    free = {name: rows for name, rows in mcmc_rows.items() if len(rows) and name not in overrides}
    in_block: dict[str, list[BlockStep]] = {}  # a large block may come in several steps
    for step in find_blocks(model, free, informed, chains):
        for member in step.members:
            in_block.setdefault(member.group.name, []).append(step)
    plans, forward = [], []
    for group in latent:
        mcmc = mcmc_rows[group.name]
        ahead = np.flatnonzero(~group.observed & ~informed[group.name])
        plan = GroupPlan(group, "forward", mcmc_rows=len(mcmc), forward_rows=len(ahead))
        blocks = in_block.get(group.name)
        if blocks:
            step = blocks[0]
            plan.sampler = step.name
            plan.block = tuple(m.group.name for m in step.members if m.group is not group)
            again = [f for f in step.followers if isinstance(f, BlockStep) and any(m.group is group for m in f.members)]
            if again:
                plan.follow_up = tuple(m.group.name for m in again[0].members if m.group is not group)
            plan.steps = [s for s in blocks if s.group is group]
        elif len(mcmc):
            _choose(model, group, mcmc, chains, overrides.get(group.name), plan, informed)
        if len(ahead):
            if group.distribution.improper:
                raise ModelError(f"{group.name} ~ dflat() has no observed descendant, so its "
                                 f"posterior is improper", group.span)
            forward.append(ForwardStep(group, ahead, downstream(model, group)[0]))
        plans.append(plan)
    _collapse(model, plans, chains, overrides)
    depth = _depths(model)
    order = {p.group.name: max((depth[m.group.name] for s in p.steps if isinstance(s, BlockStep)
                                for m in s.members), default=depth[p.group.name])
             for p in plans}  # a block runs where its deepest member would
    nearest_data_first = sorted(plans, key=lambda p: -order[p.group.name])
    steps = drop_superseded_draws([s for plan in nearest_data_first for s in plan.steps])
    steps += scale_moves(model, plans, chains, overrides, informed)
    forward.sort(key=lambda step: depth[step.group.name])
    return Plan(plans, steps, forward)


def _collapse(model, plans, chains, overrides) -> None:
    """Slice steps of hyperparameters over a conjugate layer become collapsed steps
    (:mod:`hiergraph.collapsed`); so do conjugate normal draws of a mean over a normal layer
    (eight schools' mu given the effects), which mix slowly where the layer is weakly
    informed: the collapsed move slices mu's marginal instead."""
    conjugate = {p.group.name: p.steps for p in plans}

    def children_of(group):
        return downstream(model, group)[1]

    for plan in plans:
        normal_mean = (plan.sampler.startswith("conjugate_normal") and plan.group.bounds is None
                       and all(isinstance(s, ConjugateStep) for s in plan.steps))
        if (plan.sampler != "slice" and not normal_mean) or plan.group.name in overrides:
            continue
        candidates = [SliceStep(s.blanket, chains) if normal_mean else s for s in plan.steps]
        found = [collapsible_layers(s, conjugate, children_of) for s in candidates]
        if normal_mean:
            found = [{n: layer for n, layer in f.items() if layer.rule.family == "normal"} for f in found]
            if not all(found):
                continue  # keep the conjugate draws
        plan.steps = [CollapsedSliceStep(s, f, chains) if f else s for s, f in zip(candidates, found)]
        plan.collapsed = tuple(sorted({name for f in found for name in f}))
        if plan.collapsed:
            plan.sampler = "collapsed_slice"


def _depths(model: ModelGraph) -> dict[str, int]:
    """Each group's distance from the top of the graph: its longest chain of ancestors.

    Updating the deepest groups (nearest the data) first matters: a variance parameter
    drawn before the effects it governs have moved from their initial values (all equal)
    collapses onto them."""
    order = model.graph.copy()
    order.remove_edges_from(nx.selfloop_edges(order))
    depth = {}
    for name in nx.topological_sort(order):
        depth[name] = 1 + max((depth[p] for p in order.predecessors(name)), default=-1)
    return depth


def _choose(model, group, rows, chains, forced, plan: GroupPlan, informed):
    dist = group.distribution
    deterministic, children = downstream(model, group)
    rule, links, why = match(model, group, deterministic, children)
    if forced not in (None, *SAMPLERS):
        raise ModelError(f"unknown sampler '{forced}' for {group.name}; choose one of {', '.join(SAMPLERS)}")
    if forced == "conjugate" and rule is None:
        raise ModelError(f"{group.name} has no conjugate update: {why}", group.span)
    steps = blankets(model, group, rows, informed)
    plan.why_not_conjugate = "" if rule is not None else why
    if dist.value_rank != 0 and (rule is None or forced not in (None, "conjugate")):
        # The componentwise samplers update scalar nodes only.
        if dist.name not in ("dmnorm", "dmnorm.vcov") or forced not in (None, "elliptical_slice"):
            reason = f" ({why})" if rule is None else ""
            raise ModelError(f"{group.name} ~ {dist.name} is a latent multivariate node without "
                             f"a conjugate update{reason}; this version of hiergraph samples these "
                             f"only by a conjugate rule, or dmnorm nodes by elliptical slice "
                             f"sampling", group.span)
        plan.steps = [EllipticalSliceStep(b) for b in steps]
    elif rule is not None and forced in (None, "conjugate"):
        kind = {"dirichlet": DirichletStep, "wishart": WishartStep}.get(rule.family, ConjugateStep)
        plan.steps = [kind(b, rule, links) for b in steps]
    elif dist.discrete and forced in (None, "finite_enumeration") and _finite(model, group, rows) is not None:
        values = _finite(model, group, rows)
        plan.steps = [FiniteStep(b, values) for b in steps]
    elif forced == "rw_metropolis" and not dist.discrete:
        plan.steps = [MetropolisStep(b, chains) for b in steps]
    else:
        plan.steps = [SliceStep(b, chains, discrete=dist.discrete) for b in steps]
    plan.sampler = plan.steps[0].name


def _finite(model, group, rows) -> np.ndarray | None:
    """Every value the rows can take, when that is known before sampling and small."""
    params = known_parameters(model, group)
    if params is None:
        if group.distribution.name == "dcat":  # a ragged vector of weights: its longest length
            width = max(int(group.params[0].lengths.max()), 1)
            return np.arange(1.0, width + 1)
        return None
    lower, upper = group.distribution.support(*[p[rows] for p in params])
    lower, upper = np.broadcast_to(lower, len(rows)), np.broadcast_to(upper, len(rows))
    if np.isnan(lower).any() or np.isnan(upper).any() or not np.isfinite(upper).all():
        return None
    low, high = float(lower.min()), float(upper.max())
    if high - low + 1 > FINITE_LIMIT:
        return None
    return np.arange(low, high + 1)
