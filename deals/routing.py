"""Lead routing: which partner the assignment rules pick for each lead, and why (no writes).

The rule (``AssignmentRule``): rules are tried by position; a rule applies to a lead when each of
its lead conditions is blank or equal to the lead's; the partners it allows are open accounts
(active or onboarding) of its tiers (none: any), in the lead's region / country / industry when it
asks so, that have neither turned the lead down nor let it lapse. Among them the lead goes to the
highest score, tier rank ÷ (1 + open leads held); equal scores go to the partner holding fewer
open leads, then to the higher tier, then by name. The first rule with a candidate wins.

A batch is planned with a fixed number of queries (rules, candidates with their open-lead counts,
rejections, lapses, product families) and the open counts are updated in memory as leads are
placed, so that one run spreads its leads instead of burying the top partner.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, Q, QuerySet

from deals.models import AssignmentRule, Lead, LeadEvent, LeadRejection, LeadStatus
from partners.models import AccountStatus, Industry, PartnerAccount, Region

#: Accounts that can receive leads (the same as a manager's hand assignment).
OPEN_ACCOUNT_STATUSES = (AccountStatus.ACTIVE, AccountStatus.ONBOARDING)
#: Leads a partner is holding: waiting for its answer or being worked.
HELD_LEAD_STATUSES = (LeadStatus.ASSIGNED, LeadStatus.ACCEPTED)
#: The history reason of an SLA return: the rules never offer the lead to that partner again.
LAPSED_REASON = "Not accepted in time"
DEFAULT_ACCEPTANCE_HOURS = 48


@dataclass(eq=False)
class Candidate:
    """An account the rules may pick, with what the score needs (``open_leads`` moves in a run)."""

    pk: int
    name: str
    region: str
    country: str  # casefolded, for comparison
    industry: str
    tier_id: int | None
    tier_name: str
    rank: int
    acceptance_hours: int
    open_leads: int
    folded_name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        self.folded_name = self.name.casefold()

    @property
    def score(self) -> Fraction:
        return Fraction(self.rank, 1 + self.open_leads)

    def sort_key(self) -> tuple:
        """Best first: the highest score, then fewer open leads, the higher tier, the name.

        The score is compared as the float ``rank / (1 + open)``, which orders exactly like the
        fraction: equal fractions divide to the same float, and unequal ones differ by at least
        ``1 / (d1 * d2)``, far more than the rounding while ``rank * d < 2**52`` (a tier's rank
        is a small integer, below 2**15, so up to 2**37 open leads).
        """
        rank, held = self.rank, self.open_leads
        return (-rank / (1 + held), held, -rank, self.folded_name, self.pk)

    def describe(self, *, with_name: bool = True) -> str:
        tier = f"{self.tier_name} (rank {self.rank})" if self.tier_id else "no tier (rank 0)"
        leads = f"{self.open_leads} open lead{'' if self.open_leads == 1 else 's'}"
        text = f"{tier}, {leads} → score {float(self.score):.2f}"
        return f"{self.name} — {text}" if with_name else text


@dataclass
class Decision:
    """What the rules decided for one lead: the partner (or None: it stays in the pool) and why.

    ``note`` is the full explanation for the vendor's eyes (it names runner-ups); ``summary`` is
    the part the chosen partner may read in the lead's history.
    """

    lead: Lead
    candidate: Candidate | None
    rule: AssignmentRule | None
    note: str
    summary: str = ""

    @property
    def account_id(self) -> int | None:
        return self.candidate.pk if self.candidate else None


@dataclass
class _Rule:
    rule: AssignmentRule
    tier_ids: frozenset[int]
    tier_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.rule.name

    def lead_conditions(self) -> list[str]:
        rule, parts = self.rule, []
        if rule.region:
            parts.append(f"region {_label(Region, rule.region)}")
        if rule.country:
            parts.append(f"country {rule.country}")
        if rule.industry:
            parts.append(f"industry {_label(Industry, rule.industry)}")
        if rule.product_family:
            parts.append(f"product family {rule.product_family}")
        return parts

    def partner_conditions(self) -> list[str]:
        parts = [" or ".join(self.tier_names)] if self.tier_names else []
        for flag, what in (
            (self.rule.same_region, "region"),
            (self.rule.same_country, "country"),
            (self.rule.same_industry, "industry"),
        ):
            if flag:
                parts.append(f"in the lead's {what}")
        return parts

    def title(self) -> str:
        """'Rule "EMEA manufacturing" (region EMEA, industry Manufacturing; Gold, in the
        lead's region)'."""
        lead_part = ", ".join(self.lead_conditions()) or "any lead"
        partner_part = ", ".join(self.partner_conditions()) or "any partner"
        return f'Rule "{self.name}" ({lead_part}; {partner_part})'

    def why_not(self, lead: Lead, families: set[str]) -> str | None:
        """None when the rule applies to ``lead``; else why not, in words."""
        rule = self.rule
        if rule.region and rule.region != lead.region:
            return _mismatch("region", _label(Region, lead.region), _label(Region, rule.region))
        if rule.country and rule.country.strip().casefold() != lead.country.strip().casefold():
            return _mismatch("country", lead.country, rule.country)
        if rule.industry and rule.industry != lead.industry:
            return _mismatch(
                "industry", _label(Industry, lead.industry), _label(Industry, rule.industry)
            )
        if rule.product_family and rule.product_family.strip().casefold() not in families:
            return f"the lead names no product of the {rule.product_family} family"
        return None

    def allows(self, candidate: Candidate, lead: Lead) -> bool:
        rule = self.rule
        if self.tier_ids and candidate.tier_id not in self.tier_ids:
            return False
        # A lead without the value can't be matched on it: nothing is "in its region".
        if rule.same_region and (not lead.region or candidate.region != lead.region):
            return False
        if rule.same_country and (
            not lead.country or candidate.country != lead.country.strip().casefold()
        ):
            return False
        return not (
            rule.same_industry and (not lead.industry or candidate.industry != lead.industry)
        )

    def nobody_qualifies(self, lead: Lead) -> str:
        wanted = []
        if self.tier_names:
            wanted.append(" or ".join(self.tier_names))
        for flag, what, value in (
            (self.rule.same_region, "region", _label(Region, lead.region)),
            (self.rule.same_country, "country", lead.country),
            (self.rule.same_industry, "industry", _label(Industry, lead.industry)),
        ):
            if flag:
                wanted.append(f"in {value}" if value else f"in the lead's {what} (it has none)")
        wanted.append("not one that turned it down or let it lapse")
        return f"applies, but no open partner qualifies ({', '.join(wanted)})"


def _label(choices, value: str) -> str:
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _mismatch(what: str, lead_value: str, rule_value: str) -> str:
    if not lead_value:
        return f"the lead has no {what} (the rule wants {rule_value})"
    return f"the lead's {what} is {lead_value}, not {rule_value}"


# --- loading (a fixed number of queries per batch) ------------------------------------------


def load_rules(rules: Iterable[AssignmentRule] | None = None) -> list[_Rule]:
    """The active rules in order (or ``rules``, e.g. for a preview), tiers prefetched."""
    if rules is None:
        rules = AssignmentRule.objects.active()
    elif not isinstance(rules, QuerySet):
        rules = AssignmentRule.objects.filter(pk__in=[rule.pk for rule in rules])
    loaded = []
    for rule in rules.order_by("position", "pk").prefetch_related("tiers"):
        tiers = sorted(rule.tiers.all(), key=lambda t: (-t.rank, t.pk))
        loaded.append(_Rule(rule, frozenset(t.pk for t in tiers), [t.name for t in tiers]))
    return loaded


def load_candidates(accounts=None) -> list[Candidate]:
    """Open accounts among ``accounts`` (all by default) with their open-lead counts: one query."""
    accounts = PartnerAccount.objects.all() if accounts is None else accounts
    rows = (
        accounts.filter(status__in=OPEN_ACCOUNT_STATUSES)
        .annotate(held=Count("leads", filter=Q(leads__status__in=HELD_LEAD_STATUSES)))
        .values(
            "pk",
            "name",
            "region",
            "country",
            "industry",
            "tier_id",
            "tier__name",
            "tier__rank",
            "tier__lead_acceptance_hours",
            "held",
        )
        .order_by("name", "pk")
    )
    return [
        Candidate(
            pk=row["pk"],
            name=row["name"],
            region=row["region"],
            country=(row["country"] or "").strip().casefold(),
            industry=row["industry"],
            tier_id=row["tier_id"],
            tier_name=row["tier__name"] or "",
            rank=row["tier__rank"] or 0,
            acceptance_hours=row["tier__lead_acceptance_hours"] or DEFAULT_ACCEPTANCE_HOURS,
            open_leads=row["held"],
        )
        for row in rows
    ]


def excluded_accounts(lead_ids: list[int]) -> dict[int, set[int]]:
    """Per lead, the accounts never to offer it to again: those that turned it down and those
    that let it lapse (two queries)."""
    excluded: dict[int, set[int]] = defaultdict(set)
    for lead_id, account_id in LeadRejection.objects.filter(lead_id__in=lead_ids).values_list(
        "lead_id", "account_id"
    ):
        excluded[lead_id].add(account_id)
    lapses = LeadEvent.objects.filter(
        lead_id__in=lead_ids,
        from_status=LeadStatus.ASSIGNED,
        to_status=LeadStatus.NEW,
        reason=LAPSED_REASON,
        account__isnull=False,
    ).values_list("lead_id", "account_id")
    for lead_id, account_id in lapses:
        excluded[lead_id].add(account_id)
    return excluded


def product_families(lead_ids: list[int]) -> dict[int, set[str]]:
    families: dict[int, set[str]] = defaultdict(set)
    rows = Lead.products.through.objects.filter(lead_id__in=lead_ids).values_list(
        "lead_id", "product__family"
    )
    for lead_id, family in rows:
        families[lead_id].add(family.strip().casefold())
    return families


# --- choosing -------------------------------------------------------------------------------


def choose_partners(
    leads: list[Lead],
    *,
    accounts=None,
    rules: Iterable[AssignmentRule] | None = None,
    exclude: dict[int, set[int]] | None = None,
) -> list[Decision]:
    """A decision for each lead, in order: candidates are ``accounts`` (a queryset, e.g. a
    manager's ``PartnerAccount.objects.visible_to``; all by default), tried with the active
    rules (or ``rules``). ``exclude`` adds accounts per lead id to the stored rejections and
    lapses. Reads only; the caller writes."""
    if not leads:
        return []
    lead_ids = [lead.pk for lead in leads]
    loaded = load_rules(rules)
    if not loaded:
        note = (
            "No assignment rule is active, so the lead stays in the pool: add rules in the "
            "admin (Assignment rules) or assign it by hand."
        )
        return [Decision(lead, None, None, note) for lead in leads]
    candidates = load_candidates(accounts)
    never = excluded_accounts(lead_ids)
    for lead_id, account_ids in (exclude or {}).items():
        never[lead_id] |= set(account_ids)
    families = product_families(lead_ids)
    router = _Router(loaded, candidates)
    decisions = []
    for lead in leads:
        decision = router.decide(lead, never.get(lead.pk, set()), families.get(lead.pk, set()))
        if decision.candidate is not None:
            decision.candidate.open_leads += 1  # the next lead of this run sees the new load
            router.moved(decision.candidate)
        decisions.append(decision)
    return decisions


class _Pool:
    """The candidates one rule allows for leads of one kind (same tiers, and the same region /
    country / industry where the rule asks so), kept in a heap on ``Candidate.sort_key``.

    A placed candidate's key only gets worse (one more open lead), so the heap is fixed lazily:
    an entry whose key is stale is re-pushed with the current key when it reaches the top, and
    the top entry with a current key is the best candidate of the pool.
    """

    __slots__ = ("candidates", "heap", "members")

    def __init__(self, candidates: list[Candidate]):
        self.candidates = candidates
        self.members = frozenset(c.pk for c in candidates)
        self.heap: list | None = None

    def best_two(self, keys: dict, never: set[int]) -> tuple[list[Candidate], int]:
        """The best two candidates not in ``never`` (best first) and how many qualify."""
        count = len(self.members) - (len(never & self.members) if never else 0)
        if not count:
            return [], 0
        heap = self.heap
        if heap is None:
            heap = self.heap = [(keys[c.pk], c) for c in self.candidates]
            heapq.heapify(heap)
        picked, aside = [], []
        while heap and len(picked) < 2:
            key, candidate = heap[0]
            current = keys[candidate.pk]
            if key is not current:
                heapq.heapreplace(heap, (current, candidate))
                continue
            aside.append(heapq.heappop(heap))
            if candidate.pk not in never:
                picked.append(candidate)
        for entry in aside:
            heapq.heappush(heap, entry)
        return picked, count


class _Router:
    """One batch's candidates indexed once for the rules: per rule, the candidates of its tiers
    grouped by the values the rule compares with the lead's (keys kept current as leads are
    placed), so that each lead costs a few heap steps instead of a sort of every candidate."""

    def __init__(self, rules: list[_Rule], candidates: list[Candidate]):
        self.rules = rules
        self.keys = {c.pk: c.sort_key() for c in candidates}
        self.titles = {id(rule): rule.title() for rule in rules}
        self.pools: list[dict[tuple, _Pool]] = []
        for rule in rules:
            groups: dict[tuple, list[Candidate]] = defaultdict(list)
            for candidate in candidates:
                if rule.tier_ids and candidate.tier_id not in rule.tier_ids:
                    continue
                groups[self._partner_group(rule, candidate)].append(candidate)
            self.pools.append({group: _Pool(members) for group, members in groups.items()})

    @staticmethod
    def _partner_group(rule: _Rule, candidate: Candidate) -> tuple:
        r = rule.rule
        return (
            candidate.region if r.same_region else None,
            candidate.country if r.same_country else None,
            candidate.industry if r.same_industry else None,
        )

    @staticmethod
    def _lead_group(rule: _Rule, lead: Lead) -> tuple | None:
        """The group of candidates ``rule.allows`` for ``lead``; None: nobody (a lead without
        the value can't be matched on it)."""
        r = rule.rule
        if (
            (r.same_region and not lead.region)
            or (r.same_country and not lead.country)
            or (r.same_industry and not lead.industry)
        ):
            return None
        return (
            lead.region if r.same_region else None,
            lead.country.strip().casefold() if r.same_country else None,
            lead.industry if r.same_industry else None,
        )

    def moved(self, candidate: Candidate) -> None:
        """``candidate.open_leads`` changed: its place in every pool follows."""
        self.keys[candidate.pk] = candidate.sort_key()

    def decide(self, lead: Lead, never: set[int], families: set[str]) -> Decision:
        skipped = []
        for rule, pools in zip(self.rules, self.pools, strict=True):
            why_not = rule.why_not(lead, families)
            if why_not:
                skipped.append(f'Rule "{rule.name}": {why_not}.')
                continue
            group = self._lead_group(rule, lead)
            pool = pools.get(group) if group is not None else None
            best, count = pool.best_two(self.keys, never) if pool is not None else ([], 0)
            if not best:
                skipped.append(f'Rule "{rule.name}": {rule.nobody_qualifies(lead)}.')
                continue
            winner = best[0]
            note = f"{self.titles[id(rule)]}: {winner.describe()}"
            if count > 1:
                runner_up = best[1]
                note += f"; runner-up {runner_up.describe()}"
                if runner_up.score == winner.score:
                    note += f" ({_tie_break(winner, runner_up)})"
                if count > 2:
                    note += f"; {count} partners qualified"
                note += "."
            else:
                note += "; the only partner that qualified."
            if skipped:
                note += " Tried first: " + " ".join(skipped)
            summary = f'Assigned by the rule "{rule.name}": {winner.describe(with_name=False)}.'
            return Decision(lead, winner, rule.rule, note, summary)
        note = "No assignment rule found a partner, so the lead stays in the pool. "
        note += " ".join(skipped)
        return Decision(lead, None, None, note + " Assign it by hand, or ask an admin for a rule.")


def _tie_break(winner: Candidate, runner_up: Candidate) -> str:
    if winner.open_leads != runner_up.open_leads:
        return "tie broken by fewer open leads"
    if winner.rank != runner_up.rank:
        return "tie broken by the higher tier"
    return "tie broken by name"
