"""Demo data for a fresh install: tiers, workspaces, internal users, partner companies, logins.

``seed_demo`` is idempotent: every row is found by a natural key (tier name, account name, contact
email, user email) and only what is missing is created, so running it twice changes nothing. The
generated companies come from ``random.Random(2026)`` and are planned before the database is read,
so the same ``--partners`` always describes the same companies (and a bigger number extends a
smaller one). The fixed demo accounts and logins go through the services; the generated bulk is
written in batches, with the same audit entries the services would record, and its permissions are
granted by one ``sync_account_permissions`` call at the end.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from partners import services
from partners.models import (
    AccountStatus,
    AuditAction,
    AuditEntry,
    Contact,
    ContactRole,
    PartnerAccount,
    PortalAccess,
    PortalTab,
    Tier,
    Workspace,
    WorkspaceTab,
    normalise_domain,
)
from prm.models import partner_managers_group

DEMO_PASSWORD = "openprm-demo-2026"  # noqa: S105 - published: the README lists the demo logins
ATLAS = "Atlas Distribution"
NORTHWIND = "Northwind Systems"
CONTOSO = "Contoso Partners"
SEED = 2026
#: Dates are drawn relative to a fixed day, not today, so the data is the same on every run.
BASE_DATE = date(2026, 11, 1)
BATCH_SIZE = 500

TIERS = [
    ("Registered", 10, "Entry level: deal registration and the resource library."),
    ("Silver", 20, "Trained partners with a first certified seller."),
    ("Gold", 30, "Established partners: market development funds and lead distribution."),
    ("Platinum", 40, "Strategic partners and distributors: joint planning and priority leads."),
]

ADMIN_EMAIL = "admin@openprm.example"
MAYA_EMAIL = "maya.manager@openprm.example"
LEO_EMAIL = "leo.manager@openprm.example"
INTERNAL_USERS = [
    # (key, email, first, last, superuser, partner manager)
    ("admin", ADMIN_EMAIL, "Ada", "Admin", True, False),
    ("maya", MAYA_EMAIL, "Maya", "Chen", False, True),
    ("leo", LEO_EMAIL, "Leo", "Okafor", False, True),
]

# --- word lists -----------------------------------------------------------------------------

NAME_PREFIXES = [
    "Blue Harbor", "Summit", "Ironbridge", "Cedar", "Granite", "Crescent", "Pinnacle",
    "Evergreen", "Redwood", "Brightline", "Apex", "Vertex", "Sterling", "Quantum", "Horizon",
    "Meridian", "Cobalt", "Keystone", "Lakeside", "Highland", "Riverbend", "Polaris", "Copperfield",
    "Falcon", "Beacon", "Orchard", "Trident", "Oakridge", "Clearwater", "Starling", "Juniper",
    "Maplewood", "Bluestone", "Westfield", "Eastgate", "Sunrise", "Silverline", "Stonebridge",
    "Northgate", "Kestrel", "Aurora", "Fjord", "Sierra", "Lumen", "Nimbus", "Halcyon", "Tidewater",
    "Larkspur", "Harborview", "Palisade", "Bramble", "Windward", "Corvid", "Saffron", "Emberly",
    "Foxglove", "Driftwood", "Ravenstone", "Greystone", "Seabright",
]  # fmt: skip
NAME_CORES = [
    "Data", "Cloud", "Network", "Digital", "Logic", "Tech", "Secure", "Compute", "Infra",
    "Signal", "Code", "Bridge", "Stack", "Grid", "Wave", "Link", "Systems", "Software", "Cyber",
    "Analytics", "Connect", "Ops", "Labs", "Byte", "Pixel", "Vector", "Circuit", "Fusion",
]  # fmt: skip
NAME_SUFFIXES = [
    "Solutions", "Technologies", "Group", "Consulting", "Partners", "Networks", "IT Services",
    "Advisors", "Integrators", "Services", "Works", "Security", "Systems Integration",
    "Associates", "Collective", "Innovations",
]  # fmt: skip
SURNAMES_FOR_FIRMS = [
    "Keller", "Voss", "Moreno", "Lindqvist", "Okonkwo", "Takahashi", "Fischer", "Dubois",
    "Almeida", "Novak", "Hartmann", "Costa", "Brennan", "Kowalski", "Haddad", "Iyer", "Quinn",
    "Sorensen", "Castillo", "Bauer",
]  # fmt: skip
DISTRIBUTOR_SUFFIXES = ["Distribution", "Distributors", "Supply", "Channel Group"]

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Sofia", "Mateo", "Aisha", "Lucas", "Mia", "Ethan", "Chloé",
    "Hiroshi", "Yuki", "Priya", "Arjun", "Fatima", "Omar", "Ingrid", "Lars", "Zoë", "Daniel",
    "Grace", "Samuel", "Elena", "Marco", "Chen", "Wei", "Isabella", "Gabriel", "Hannah", "Jonas",
    "Amara", "Kwame", "Nadia", "Tomás", "Lucía", "Rafael", "Freya", "Oscar", "Leila", "Ravi",
    "Mei", "Diego", "Ana", "Felix", "Clara", "Henrik", "Sara", "Jakub", "Anika", "Malik",
    "Rosa", "Tariq", "Nora", "Patrick", "Camila", "Julian", "Ines", "Kenji", "Beatriz",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "García", "Müller", "Rossi", "Tanaka", "Kim", "Nguyen", "Patel", "Singh",
    "O'Brien", "Andersson", "Kowalski", "Silva", "Santos", "Dubois", "Martin", "Schmidt",
    "Jensen", "Novak", "Hughes", "Murphy", "Walker", "Sato", "Wong", "Chen", "Costa", "Ferreira",
    "López", "Hernández", "Ivanova", "Nakamura", "Okafor", "Mensah", "Haddad", "Yilmaz", "Berg",
    "Larsen", "Fischer", "Weber", "Moreau", "Laurent", "Romano", "Bianchi", "Clarke", "Evans",
    "Reyes", "Cruz", "Ahmed", "Khan", "Das", "Iyer", "Park", "Lee", "Brown", "Taylor",
    "Wilson", "Thompson", "Campbell", "Stewart",
]  # fmt: skip

#: region -> [(country, weight, phone prefix, legal suffixes)]
COUNTRIES = {
    "na": [
        ("United States", 7, "+1", ["Inc.", "LLC"]),
        ("Canada", 2, "+1", ["Inc.", "Ltd."]),
    ],
    "latam": [
        ("Mexico", 3, "+52", ["S.A. de C.V."]),
        ("Brazil", 3, "+55", ["Ltda."]),
        ("Argentina", 1, "+54", ["S.A."]),
        ("Chile", 1, "+56", ["SpA"]),
        ("Colombia", 1, "+57", ["S.A.S."]),
    ],
    "emea": [
        ("United Kingdom", 4, "+44", ["Ltd"]),
        ("Germany", 4, "+49", ["GmbH"]),
        ("France", 3, "+33", ["SAS"]),
        ("Netherlands", 2, "+31", ["B.V."]),
        ("Sweden", 1, "+46", ["AB"]),
        ("Spain", 2, "+34", ["S.L."]),
        ("Italy", 2, "+39", ["S.r.l."]),
        ("Poland", 1, "+48", ["sp. z o.o."]),
        ("Ireland", 1, "+353", ["Ltd"]),
        ("Switzerland", 1, "+41", ["AG"]),
        ("United Arab Emirates", 1, "+971", ["FZ-LLC"]),
        ("South Africa", 1, "+27", ["(Pty) Ltd"]),
    ],
    "apac": [
        ("Australia", 3, "+61", ["Pty Ltd"]),
        ("Japan", 2, "+81", ["K.K."]),
        ("Singapore", 2, "+65", ["Pte. Ltd."]),
        ("India", 3, "+91", ["Pvt. Ltd."]),
        ("New Zealand", 1, "+64", ["Ltd"]),
        ("South Korea", 1, "+82", ["Co., Ltd."]),
    ],
}
REGION_WEIGHTS = {"na": 35, "emea": 35, "apac": 18, "latam": 12}
INDUSTRY_WEIGHTS = {
    "software": 30, "telecom": 8, "finance": 10, "healthcare": 8, "manufacturing": 10,
    "retail": 8, "public": 6, "education": 5, "energy": 5, "other": 10,
}  # fmt: skip
STATUS_WEIGHTS = {"active": 80, "onboarding": 8, "prospect": 6, "inactive": 6}
TIER_WEIGHTS = {"Registered": 35, "Silver": 35, "Gold": 22, "Platinum": 8}
MANAGER_WEIGHTS = {"maya": 60, "leo": 30, None: 10}
RESELLER_SHARE = 0.35
#: Share of companies whose primary contact already has partner-admin access but no login yet.
NOT_INVITED_SHARE = 0.12

ROLE_TITLES = {
    "primary": ["Partner Alliance Manager", "Head of Partnerships", "Channel Manager"],
    "executive-sponsor": ["CEO", "Managing Director", "VP Partnerships", "COO"],
    "sales": ["Sales Director", "Account Executive", "Head of Sales", "Sales Engineer"],
    "technical": ["Solutions Architect", "CTO", "Technical Lead", "Pre-sales Engineer"],
    "marketing": ["Marketing Manager", "Head of Marketing", "Field Marketing Lead"],
    "finance": ["Finance Controller", "CFO", "Accounts Manager"],
}
OTHER_ROLES = ["sales", "technical", "marketing", "finance", "executive-sponsor"]

DESCRIPTIONS = [
    "{name} resells and implements our platform for {audience} across {country}.",
    "A {size} {kind} based in {country}, serving {audience} since {year}.",
    "{name} builds managed services on top of our products for {audience}.",
    "Specialist {kind} in {country} with a certified team and a strong {industry} practice.",
]
AUDIENCES = {
    "software": "software companies", "telecom": "carriers and ISPs",
    "finance": "banks and insurers", "healthcare": "hospitals and clinics",
    "manufacturing": "manufacturers", "retail": "retail chains",
    "public": "public agencies", "education": "schools and universities",
    "energy": "utilities", "other": "mid-market companies",
}  # fmt: skip
KINDS = ["systems integrator", "value-added reseller", "managed service provider", "consultancy"]
SIZES = ["small", "fast-growing", "mid-sized", "family-owned", "established"]


# --- the plan -------------------------------------------------------------------------------


@dataclass
class ContactPlan:
    first_name: str
    last_name: str
    email: str
    title: str
    roles: list[str]
    phone: str = ""
    portal_access: str = PortalAccess.NONE


@dataclass
class AccountPlan:
    name: str
    website: str
    country: str
    region: str
    industry: str
    status: str
    tier: str | None
    manager: str | None  # key of INTERNAL_USERS
    parent: str | None  # name of the parent account
    partner_since: date | None
    phone: str
    description: str
    is_distributor: bool = False
    suspend: bool = False  # created active, then suspended through the service (audit history)
    contacts: list[ContactPlan] = field(default_factory=list)


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()


def _slug(value: str) -> str:
    return "".join(ch for ch in _ascii(value) if ch.isalnum())


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _phone(rng: random.Random, prefix: str) -> str:
    if prefix == "+1":
        return f"+1 {rng.randint(201, 989)} 555 {rng.randint(100, 199):04d}"
    return f"{prefix} {rng.randint(20, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _company_name(rng: random.Random, *, distributor: bool, legal: list[str]) -> tuple[str, str]:
    """(the company's name, the name its domain is made from: without the legal form)."""
    pattern = rng.random()
    if distributor:
        base = f"{rng.choice(NAME_PREFIXES)} {rng.choice(DISTRIBUTOR_SUFFIXES)}"
    elif pattern < 0.6:
        base = f"{rng.choice(NAME_PREFIXES)} {rng.choice(NAME_CORES)} {rng.choice(NAME_SUFFIXES)}"
    elif pattern < 0.85:
        base = f"{rng.choice(NAME_PREFIXES)} {rng.choice(NAME_SUFFIXES)}"
    else:
        first, second = rng.sample(SURNAMES_FOR_FIRMS, 2)
        base = f"{first} & {second} {rng.choice(NAME_SUFFIXES)}"
    name = f"{base} {rng.choice(legal)}" if rng.random() < 0.3 else base
    return name, base


def _contacts(rng: random.Random, domain: str, phone_prefix: str) -> list[ContactPlan]:
    count = rng.randint(2, 5)
    others = rng.sample(OTHER_ROLES, count - 1)
    email_style = rng.randrange(3)
    people, seen = [], set()
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = {0: f"{first}.{last}", 1: f"{first[0]}{last}", 2: f"{first}"}[email_style]
        local = ".".join(filter(None, (_slug(part) for part in local.split("."))))
        while local in seen:  # two people of the same name at one company
            local = f"{local}{len(seen)}"
        seen.add(local)
        roles = ["primary"] if index == 0 else [others[index - 1]]
        if index == 0 and rng.random() < 0.3:
            roles.append("executive-sponsor")
        people.append(
            ContactPlan(
                first_name=first,
                last_name=last,
                email=f"{local}@{domain}",
                title=rng.choice(ROLE_TITLES[roles[0]]),
                roles=roles,
                phone=_phone(rng, phone_prefix) if rng.random() < 0.6 else "",
            )
        )
    return people


def plan_accounts(count: int, *, reserved_names=()) -> list[AccountPlan]:
    """``count`` generated companies; the first three are distributors. Pure: no database."""
    rng = random.Random(SEED)
    taken_names = {n.lower() for n in reserved_names}
    taken_domains: set[str] = set()
    distributor_regions = ["na", "apac", "latam"]
    distributors: dict[str, str] = {"emea": ATLAS}  # region -> distributor name
    plans: list[AccountPlan] = []
    suspend_at = None
    resellers = 0
    for index in range(count):
        is_distributor = index < len(distributor_regions)
        region = distributor_regions[index] if is_distributor else _weighted(rng, REGION_WEIGHTS)
        countries = COUNTRIES[region]
        weights = [weight for _, weight, _, _ in countries]
        country, _, phone_prefix, legal = rng.choices(countries, weights=weights)[0]
        while True:
            name, base = _company_name(rng, distributor=is_distributor, legal=legal)
            domain = f"{_slug(base)}.example"
            if name.lower() not in taken_names and domain not in taken_domains:
                break
        taken_names.add(name.lower())
        taken_domains.add(domain)
        industry = _weighted(rng, INDUSTRY_WEIGHTS)
        if is_distributor:
            status, tier = AccountStatus.ACTIVE, rng.choice(["Platinum", "Gold"])
            manager = "maya" if index != 1 else "leo"
            parent = None
        else:
            status = _weighted(rng, STATUS_WEIGHTS)
            tier = None if status == AccountStatus.PROSPECT else _weighted(rng, TIER_WEIGHTS)
            manager = _weighted(rng, MANAGER_WEIGHTS)
            parent = None
            if rng.random() < RESELLER_SHARE:
                # The first resellers go round the distributors so that each has several; then
                # mostly the distributor of their own region, some through another one.
                local = distributors.get(region)
                others = sorted(distributors.values())
                if resellers < 3 * len(others):
                    parent = others[resellers % len(others)]
                elif local and rng.random() < 0.6:
                    parent = local
                else:
                    parent = rng.choice(others)
                resellers += 1
            if tier == "Platinum" and parent:
                tier = "Gold"  # resellers sit below their distributor
        if status == AccountStatus.PROSPECT:
            since = None
        elif status == AccountStatus.ONBOARDING:
            since = BASE_DATE - timedelta(days=rng.randint(5, 90))
        else:
            since = BASE_DATE - timedelta(days=rng.randint(120, 7 * 365))
        description = rng.choice(DESCRIPTIONS).format(
            name=name,
            audience=AUDIENCES[industry],
            country=country,
            size=rng.choice(SIZES),
            kind=rng.choice(KINDS),
            year=(since or BASE_DATE).year,
            industry=industry,
        )
        plan = AccountPlan(
            name=name,
            website=f"https://www.{domain}" if rng.random() < 0.7 else f"https://{domain}",
            country=country,
            region=region,
            industry=industry,
            status=status,
            tier=tier,
            manager=manager,
            parent=parent,
            partner_since=since,
            phone=_phone(rng, phone_prefix) if rng.random() < 0.8 else "",
            description=description,
            is_distributor=is_distributor,
            contacts=_contacts(rng, domain, phone_prefix),
        )
        if status == AccountStatus.ACTIVE and plan.contacts and rng.random() < NOT_INVITED_SHARE:
            plan.contacts[0].portal_access = PortalAccess.ADMIN
        if is_distributor:
            distributors[region] = name
        elif suspend_at is None and index >= 7 and status == AccountStatus.ACTIVE:
            suspend_at = index
            plan.suspend = True
        plans.append(plan)
    return plans


# --- the fixed demo accounts and logins -----------------------------------------------------

FIXED_ACCOUNTS = [
    {
        "name": ATLAS,
        "website": "https://www.atlas-distribution.example",
        "country": "United Kingdom",
        "region": "emea",
        "industry": "software",
        "status": AccountStatus.ACTIVE,
        "tier": "Platinum",
        "manager": "maya",
        "parent": None,
        "partner_since": date(2019, 3, 1),
        "phone": "+44 20 7946 0321",
        "description": "Pan-European distributor: onboards, finances and supports resellers.",
    },
    {
        "name": NORTHWIND,
        "website": "https://www.northwind.example",
        "country": "Germany",
        "region": "emea",
        "industry": "manufacturing",
        "status": AccountStatus.ACTIVE,
        "tier": "Silver",  # promoted to Gold by its manager below: a history entry to show
        "manager": "maya",
        "parent": ATLAS,
        "partner_since": date(2022, 6, 15),
        "phone": "+49 30 901820",
        "description": "Reseller and integrator for mid-sized manufacturers in the DACH region.",
    },
    {
        "name": CONTOSO,
        "website": "https://contoso-partners.example",
        "country": "United States",
        "region": "na",
        "industry": "finance",
        "status": AccountStatus.ACTIVE,
        "tier": "Silver",
        "manager": "leo",
        "parent": None,
        "partner_since": date(2023, 1, 9),
        "phone": "+1 415 555 0142",
        "description": "Consultancy serving regional banks and credit unions.",
    },
]

#: account -> [(first, last, email, title, roles, portal access, has a login)]
FIXED_CONTACTS = {
    ATLAS: [
        ("Dana", "Whitfield", "dana.admin@atlas-distribution.example", "Channel Director",
         ["primary", "executive-sponsor"], PortalAccess.ADMIN, True),
        ("Priya", "Raman", "priya.raman@atlas-distribution.example", "Sales Director",
         ["sales"], PortalAccess.NONE, False),
        ("Lars", "Eriksen", "lars.eriksen@atlas-distribution.example", "Solutions Architect",
         ["technical"], PortalAccess.NONE, False),
    ],
    NORTHWIND: [
        ("Alex", "Rivera", "alex.admin@northwind.example", "Head of Partnerships",
         ["primary"], PortalAccess.ADMIN, True),
        ("Jamie", "Park", "jamie.member@northwind.example", "Account Executive",
         ["sales"], PortalAccess.MEMBER, True),
        ("Casey", "Nguyen", "casey.nguyen@northwind.example", "Solutions Engineer",
         ["technical"], PortalAccess.NONE, False),
        ("Morgan", "Schulz", "morgan.schulz@northwind.example", "Finance Manager",
         ["finance"], PortalAccess.NONE, False),
    ],
    CONTOSO: [
        ("Sam", "Patel", "sam.admin@contoso-partners.example", "Managing Partner",
         ["primary", "executive-sponsor"], PortalAccess.ADMIN, True),
        ("Robin", "Lee", "robin.lee@contoso-partners.example", "Marketing Manager",
         ["marketing"], PortalAccess.NONE, False),
        ("Taylor", "Brooks", "taylor.brooks@contoso-partners.example", "Sales Director",
         ["sales"], PortalAccess.NONE, False),
    ],
}  # fmt: skip

# --- workspaces -----------------------------------------------------------------------------

DEFAULT_TABS = [
    PortalTab.HOME, PortalTab.COMPANY, PortalTab.LEADS, PortalTab.DEALS, PortalTab.TRAINING,
    PortalTab.RESOURCES, PortalTab.DASHBOARD, PortalTab.SURVEYS,
]  # fmt: skip
WORKSPACES = [
    {
        "tier": None,
        "name": "Standard partner workspace",
        "welcome_title": "Welcome to the OpenPRM partner portal",
        "welcome_message": (
            "Register your deals, follow up the leads we send you and keep your team's "
            "certifications current. Your partner manager is one click away on the Company tab."
        ),
        "tabs": [(tab, "", True) for tab in DEFAULT_TABS],
    },
    {
        "tier": "Platinum",
        "name": "Platinum partner workspace",
        "welcome_title": "Welcome back, Platinum partner",
        "welcome_message": (
            "Your scorecard comes first: see how this quarter is tracking against your joint "
            "plan, then review pipeline and priority leads."
        ),
        "tabs": [
            (PortalTab.HOME, "", True),
            (PortalTab.DASHBOARD, "Scorecard", True),
            (PortalTab.DEALS, "", True),
            (PortalTab.LEADS, "Priority leads", True),
            (PortalTab.COMPANY, "", True),
            (PortalTab.TRAINING, "", True),
            (PortalTab.RESOURCES, "", True),
            (PortalTab.SURVEYS, "", True),
        ],
    },
    {
        "tier": "Registered",
        "name": "Registered partner workspace",
        "welcome_title": "Welcome to the partner program",
        "welcome_message": (
            "Start with the onboarding courses and register your first deal: Silver status and "
            "your dashboard unlock once you are certified."
        ),
        "tabs": [(tab, "", tab != PortalTab.DASHBOARD) for tab in DEFAULT_TABS],
    },
]


# --- seeding --------------------------------------------------------------------------------


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (email, who, role)
    _password_hash: str = ""

    def password_hash(self) -> str:
        # Hashed once per run: the password is published anyway, and a hash costs ~0.3 s.
        if not self._password_hash:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash


def _seed_tiers(report: SeedReport) -> dict[str, Tier]:
    tiers = {}
    for name, rank, description in TIERS:
        tier, created = Tier.objects.get_or_create(
            name=name, defaults={"rank": rank, "description": description}
        )
        tiers[name] = tier
        report.created["tiers"] += created
    return tiers


def _seed_workspaces(tiers: dict[str, Tier], report: SeedReport) -> None:
    for spec in WORKSPACES:
        tier = tiers[spec["tier"]] if spec["tier"] else None
        workspace, created = Workspace.objects.get_or_create(
            tier=tier,
            defaults={
                "name": spec["name"],
                "welcome_title": spec["welcome_title"],
                "welcome_message": spec["welcome_message"],
            },
        )
        report.created["workspaces"] += created
        existing = set(workspace.tabs.values_list("tab", flat=True))
        missing = [
            WorkspaceTab(workspace=workspace, tab=tab, label=label, position=pos, enabled=on)
            for pos, (tab, label, on) in enumerate(spec["tabs"], start=1)
            if tab not in existing
        ]
        WorkspaceTab.objects.bulk_create(missing)
        report.created["workspace tabs"] += len(missing)


def _ensure_user(email, *, first, last, report: SeedReport, **extra):
    """The login for ``email``; the demo password is set only when the user is created."""
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_model(
            email=user_model.objects.normalize_email(email).lower(),
            password=report.password_hash(),
            first_name=first,
            last_name=last,
            **extra,
        )
        user.save()
        report.created["users"] += 1
    # allauth's mandatory verification would otherwise hold the demo logins at a "verify" page.
    _, created = EmailAddress.objects.get_or_create(
        user=user, email__iexact=user.email,
        defaults={"email": user.email, "verified": True, "primary": True},
    )  # fmt: skip
    report.created["email addresses"] += created
    return user


def _seed_internal_users(report: SeedReport) -> dict:
    managers = partner_managers_group()
    people = {}
    for key, email, first, last, superuser, manager in INTERNAL_USERS:
        extra = {"is_superuser": True, "is_staff": True} if superuser else {}
        user = _ensure_user(email, first=first, last=last, report=report, **extra)
        if manager and not user.groups.filter(pk=managers.pk).exists():
            user.groups.add(managers)
        people[key] = user
        role = "admin" if superuser else "partner manager"
        report.logins.append((email, f"{first} {last}", role))
    return people


def _roles_by_code() -> dict[str, ContactRole]:
    return {role.code: role for role in ContactRole.objects.all()}


def _seed_fixed_accounts(people, tiers, roles, report: SeedReport) -> dict[str, PartnerAccount]:
    """Atlas, Northwind and Contoso with their demo logins, created through the services."""
    admin = people["admin"]
    accounts: dict[str, PartnerAccount] = {}
    for spec in FIXED_ACCOUNTS:
        account = PartnerAccount.objects.filter(name=spec["name"]).order_by("pk").first()
        if account is None:
            values = dict(spec)
            values["tier"] = tiers[values["tier"]]
            values["manager"] = people[values["manager"]]
            values["parent"] = accounts.get(values["parent"]) if values["parent"] else None
            account = services.save_account(actor=admin, account=PartnerAccount(**values))
            report.created["partner accounts"] += 1
            if spec["name"] == NORTHWIND:
                # Its manager promotes it: the partner page's history shows a real change.
                account.tier = tiers["Gold"]
                services.save_account(
                    actor=people["maya"],
                    account=account,
                    reason="Two certified sellers and the Gold revenue threshold reached.",
                )
        accounts[spec["name"]] = account

    for account_name, contacts in FIXED_CONTACTS.items():
        account = accounts[account_name]
        linked = False
        for first, last, email, title, role_codes, access, login in contacts:
            contact = Contact.objects.filter(account=account, email__iexact=email).first()
            if contact is None:
                contact = services.save_contact(
                    actor=admin,
                    contact=Contact(
                        account=account,
                        first_name=first,
                        last_name=last,
                        email=email,
                        title=title,
                        portal_access=access,
                    ),
                    roles=[roles[code] for code in role_codes],
                )
                report.created["contacts"] += 1
            if login:
                linked |= _link_login(contact, admin=admin, report=report)
                report.logins.append(
                    (email, f"{first} {last}", f"{contact.get_portal_access_display()}, {account}")
                )
        if linked:
            services.sync_account_permissions([account.pk])

    # A pending invitation, sent by Northwind's own partner admin.
    casey = Contact.objects.get(
        account=accounts[NORTHWIND], email__iexact="casey.nguyen@northwind.example"
    )
    if casey.user_id is None and not casey.invitations.exists():
        alex = get_user_model().objects.get(email__iexact="alex.admin@northwind.example")
        services.invite_contact(actor=alex, contact=casey)
        report.created["invitations"] += 1
    return accounts


def _link_login(contact: Contact, *, admin, report: SeedReport) -> bool:
    """Give a demo contact its login directly (a real person would accept an invitation)."""
    if contact.user_id:
        return False
    user = _ensure_user(
        contact.email, first=contact.first_name, last=contact.last_name, report=report
    )
    contact.user = user
    contact.save(update_fields=["user", "updated_at"])
    services.record(
        actor=admin,
        account=contact.account,
        action=AuditAction.ACCESS,
        obj=contact,
        message="Portal login created with the demo data",
    )
    return True


def _bulk_create_accounts(
    plans: list[AccountPlan], *, people, tiers, roles, fixed, report: SeedReport
) -> list[PartnerAccount]:
    """Create the planned companies that do not exist yet, with contacts and audit entries."""
    admin = people["admin"]
    names = [plan.name for plan in plans]
    existing: dict[str, PartnerAccount] = dict(fixed)
    for start in range(0, len(names), BATCH_SIZE):
        for account in PartnerAccount.objects.filter(name__in=names[start : start + BATCH_SIZE]):
            existing.setdefault(account.name, account)

    created: list[PartnerAccount] = []
    contacts: list[tuple[Contact, list[str]]] = []
    # Distributors first: the resellers below them need their primary keys.
    for wave in (
        [p for p in plans if p.is_distributor],
        [p for p in plans if not p.is_distributor],
    ):
        batch = []
        for plan in wave:
            if plan.name in existing:
                continue
            account = PartnerAccount(
                name=plan.name,
                website=plan.website,
                domain=normalise_domain(plan.website),  # bulk_create skips save()
                country=plan.country,
                region=plan.region,
                industry=plan.industry,
                status=plan.status,
                tier=tiers[plan.tier] if plan.tier else None,
                manager=people[plan.manager] if plan.manager else None,
                parent=existing[plan.parent] if plan.parent else None,
                partner_since=plan.partner_since,
                phone=plan.phone,
                description=plan.description,
            )
            batch.append((plan, account))
        PartnerAccount.objects.bulk_create([a for _, a in batch], batch_size=BATCH_SIZE)
        for plan, account in batch:
            existing[plan.name] = account
            created.append(account)
            for person in plan.contacts:
                contact = Contact(
                    account=account,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    email=person.email,
                    phone=person.phone,
                    title=person.title,
                    portal_access=person.portal_access,
                )
                contacts.append((contact, person.roles))
    Contact.objects.bulk_create([c for c, _ in contacts], batch_size=BATCH_SIZE)
    through = Contact.roles.through
    through.objects.bulk_create(
        [
            through(contact_id=contact.pk, contactrole_id=roles[code].pk)
            for contact, codes in contacts
            for code in codes
        ],
        batch_size=BATCH_SIZE,
    )
    # The audit entries save_account / save_contact would have written, in bulk.
    entries = [
        AuditEntry(
            account=account,
            actor=admin,
            action=AuditAction.CREATE,
            object_type=PartnerAccount._meta.verbose_name,
            object_id=account.pk,
            object_repr=str(account)[:200],
            changes=services.diff(None, account, services.ACCOUNT_FIELDS),
        )
        for account in created
    ]
    for contact, codes in contacts:
        changes = services.diff(None, contact, services.CONTACT_FIELDS)
        changes["roles"] = ["", ", ".join(sorted(str(roles[code]) for code in codes))]
        entries.append(
            AuditEntry(
                account=contact.account,
                actor=admin,
                action=AuditAction.CREATE,
                object_type=Contact._meta.verbose_name,
                object_id=contact.pk,
                object_repr=str(contact)[:200],
                changes=changes,
            )
        )
    AuditEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    report.created["partner accounts"] += len(created)
    report.created["contacts"] += len(contacts)
    return created


@transaction.atomic
def seed_demo(*, partners: int = 40) -> SeedReport:
    """Load the demo data (idempotent). ``partners`` counts the fixed accounts too."""
    report = SeedReport()
    tiers = _seed_tiers(report)
    _seed_workspaces(tiers, report)
    people = _seed_internal_users(report)
    roles = _roles_by_code()
    fixed = _seed_fixed_accounts(people, tiers, roles, report)
    plans = plan_accounts(max(partners - len(FIXED_ACCOUNTS), 0), reserved_names=fixed)
    created = _bulk_create_accounts(
        plans, people=people, tiers=tiers, roles=roles, fixed=fixed, report=report
    )
    if created:
        # The one writer of permission rows, once, over every account (it works in sets).
        services.sync_account_permissions(
            PartnerAccount.objects.values_list("pk", flat=True), include_descendants=False
        )
    by_name = {account.name: account for account in created}
    for plan in plans:
        if plan.suspend and plan.name in by_name:
            services.change_account_status(
                actor=people["admin"],
                account=by_name[plan.name],
                status=AccountStatus.SUSPENDED,
                reason="Partner agreement lapsed: the renewal was not signed.",
            )
    return report
