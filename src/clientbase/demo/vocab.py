"""Fixed vocabularies of the demo business: names, places, segments, products.

Everything here is clearly fictional: e-mail domains are ``example.hu`` / ``example.pl`` /
``example.com`` (reserved by RFC 2606 or plainly invented), phone numbers use ranges that are
never assigned to subscribers (``+36 1 555 …``, ``+48 22 555 …``, ``+44 7700 900 …``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COUNTRIES",
    "PRODUCT_CATEGORIES",
    "SEGMENTS",
    "Country",
    "ProductCategory",
    "Segment",
]


@dataclass(frozen=True, slots=True)
class Country:
    """Names and places of one country the demo business sells to."""

    code: str
    domain: str
    phone_prefix: str
    first_female: tuple[str, ...]
    first_male: tuple[str, ...]
    last_names: tuple[str, ...]
    company_suffix: str
    streets: tuple[str, ...]
    #: (city, region, postcode stem, urban)
    cities: tuple[tuple[str, str, str, bool], ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        code="HU",
        domain="example.hu",
        phone_prefix="+36 1 555",
        first_female=("Anna", "Eszter", "Katalin", "Zsófia", "Réka", "Judit", "Ildikó", "Noémi"),
        first_male=("Bence", "Gábor", "László", "Péter", "Zoltán", "Attila", "Máté", "Dániel"),
        last_names=("Kovács", "Szabó", "Tóth", "Nagy", "Horváth", "Varga", "Kiss", "Molnár"),
        company_suffix="Kft.",
        streets=("Fő utca", "Petőfi utca", "Kossuth tér", "Rákóczi út", "Ady Endre utca"),
        cities=(
            ("Budapest", "Közép-Magyarország", "10", True),
            ("Debrecen", "Észak-Alföld", "40", True),
            ("Szeged", "Dél-Alföld", "67", True),
            ("Pécs", "Dél-Dunántúl", "76", True),
            ("Tiszakécske", "Dél-Alföld", "60", False),
            ("Őriszentpéter", "Nyugat-Dunántúl", "99", False),
            ("Mezőkövesd", "Észak-Magyarország", "34", False),
        ),
    ),
    Country(
        code="PL",
        domain="example.pl",
        phone_prefix="+48 22 555",
        first_female=("Agnieszka", "Katarzyna", "Małgorzata", "Zofia", "Joanna", "Ewa"),
        first_male=("Piotr", "Krzysztof", "Tomasz", "Paweł", "Michał", "Jakub"),
        last_names=("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski"),
        company_suffix="Sp. z o.o.",
        streets=("ul. Długa", "ul. Polna", "ul. Lipowa", "ul. Mickiewicza", "ul. Kwiatowa"),
        cities=(
            ("Warszawa", "Mazowieckie", "00", True),
            ("Kraków", "Małopolskie", "30", True),
            ("Wrocław", "Dolnośląskie", "50", True),
            ("Zakopane", "Małopolskie", "34", False),
            ("Sokółka", "Podlaskie", "16", False),
        ),
    ),
    Country(
        code="GB",
        domain="example.com",
        phone_prefix="+44 7700 900",
        first_female=("Emily", "Olivia", "Grace", "Charlotte", "Amelia", "Sophie"),
        first_male=("James", "Oliver", "Harry", "George", "Thomas", "William"),
        last_names=("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans"),
        company_suffix="Ltd",
        streets=("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue"),
        cities=(
            ("London", "Greater London", "SW", True),
            ("Manchester", "North West", "M", True),
            ("Bristol", "South West", "BS", True),
            ("Little Snoring", "East of England", "NR", False),
            ("Much Wenlock", "West Midlands", "TF", False),
        ),
    ),
)

#: Share of customers per country (same order as :data:`COUNTRIES`).
COUNTRY_SHARES: tuple[float, ...] = (0.6, 0.25, 0.15)


@dataclass(frozen=True, slots=True)
class Segment:
    """A planted segment: who they are and how they buy.

    ``member_rate`` is the range of purchase occasions per year of its regular buyers;
    ``lines`` and ``quantity`` the ranges of lines per order and items per line;
    ``categories`` the product categories it prefers (weights, same order as
    :data:`PRODUCT_CATEGORIES`); ``climb`` tilts it towards the upper rungs (>1) or towards
    being lost (<1).
    """

    code: str
    persona: str
    company: bool
    birth_years: tuple[int, int]
    incomes: tuple[str, ...]
    urban: bool | None
    occupations: tuple[str, ...]
    industries: tuple[str, ...]
    sizes: tuple[str, ...]
    member_rate: tuple[float, float]
    lines: tuple[int, int]
    quantity: tuple[int, int]
    categories: tuple[float, ...]
    climb: float
    interests: tuple[str, ...]
    lifestyle: tuple[str, ...]
    attitudes: tuple[str, ...]
    values: tuple[str, ...]
    weight: float


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "young_urban_high_income",
        "young urban professionals with high income: frequent small baskets",
        False,
        (1992, 2004),
        ("high", "upper_middle"),
        True,
        ("software developer", "consultant", "designer"),
        (),
        (),
        (18.0, 30.0),
        (1, 1),
        (1, 1),
        (4, 1, 3, 0.5, 2, 0.5),
        1.3,
        ("tech", "travel", "fitness"),
        ("urban", "busy"),
        ("early_adopter",),
        ("convenience",),
        0.20,
    ),
    Segment(
        "rural_family",
        "rural families: rare, large baskets",
        False,
        (1975, 1995),
        ("lower_middle", "middle"),
        False,
        ("farmer", "teacher", "driver"),
        (),
        (),
        (10.0, 12.0),
        (2, 3),
        (2, 4),
        (1, 4, 2, 3, 1, 0.5),
        0.9,
        ("gardening", "cooking", "family"),
        ("rural", "home"),
        ("price_conscious",),
        ("family", "tradition"),
        0.22,
    ),
    Segment(
        "suburban_professional",
        "suburban professionals: steady medium baskets",
        False,
        (1968, 1990),
        ("middle", "upper_middle"),
        None,
        ("engineer", "accountant", "nurse"),
        (),
        (),
        (10.0, 18.0),
        (1, 2),
        (1, 2),
        (2, 2, 2, 2, 1, 1),
        1.0,
        ("diy", "cycling", "books"),
        ("suburban",),
        ("quality_seeker",),
        ("reliability",),
        0.20,
    ),
    Segment(
        "senior_saver",
        "seniors on a budget: regular small baskets, loyal",
        False,
        (1940, 1960),
        ("low", "lower_middle"),
        None,
        ("retired",),
        (),
        (),
        (10.0, 14.0),
        (1, 1),
        (1, 2),
        (1, 3, 1, 2, 0.5, 0.5),
        1.2,
        ("gardening", "health"),
        ("home",),
        ("brand_loyal",),
        ("tradition", "thrift"),
        0.12,
    ),
    Segment(
        "student_bargain_hunter",
        "students hunting bargains: small baskets, quickly lost",
        False,
        (2002, 2008),
        ("low",),
        True,
        ("student",),
        (),
        (),
        (10.0, 16.0),
        (1, 1),
        (1, 2),
        (3, 0.5, 1, 0.5, 3, 0.5),
        0.6,
        ("gaming", "music"),
        ("urban", "social"),
        ("deal_seeker",),
        ("fun",),
        0.10,
    ),
    Segment(
        "company_small_retail",
        "small retailers and cafés: regular medium orders",
        True,
        (0, 0),
        (),
        None,
        (),
        ("retail", "hospitality"),
        ("micro", "small"),
        (12.0, 24.0),
        (1, 3),
        (3, 10),
        (1, 2, 3, 1, 1, 3),
        1.0,
        ("b2b",),
        (),
        ("price_conscious",),
        ("reliability",),
        0.10,
    ),
    Segment(
        "company_mid_manufacturing",
        "mid-sized manufacturers: large orders a few times a year",
        True,
        (0, 0),
        (),
        None,
        (),
        ("manufacturing", "logistics"),
        ("medium",),
        (10.0, 14.0),
        (2, 4),
        (10, 40),
        (0.5, 1, 2, 4, 0.5, 3),
        1.1,
        ("b2b",),
        (),
        ("quality_seeker",),
        ("reliability",),
        0.04,
    ),
    Segment(
        "company_large_enterprise",
        "large enterprises (key accounts): very large orders",
        True,
        (0, 0),
        (),
        None,
        (),
        ("finance", "energy", "it_services"),
        ("large",),
        (10.0, 16.0),
        (3, 5),
        (20, 80),
        (3, 0.5, 1, 4, 0.5, 4),
        1.5,
        ("b2b",),
        (),
        ("quality_seeker",),
        ("partnership",),
        0.02,
    ),
)


@dataclass(frozen=True, slots=True)
class ProductCategory:
    """A product category: its name, price range (whole HUF) and margin range."""

    code: str
    names: tuple[str, ...]
    price_huf: tuple[int, int]
    margin: tuple[float, float]


PRODUCT_CATEGORIES: tuple[ProductCategory, ...] = (
    ProductCategory(
        "electronics",
        ("Headphones", "Smart speaker", "Power bank", "E-reader", "Fitness band"),
        (8_000, 60_000),
        (0.25, 0.35),
    ),
    ProductCategory(
        "garden",
        ("Seed box", "Garden hose", "Pruning shears", "Compost bin", "Planter"),
        (3_000, 25_000),
        (0.40, 0.55),
    ),
    ProductCategory(
        "home",
        ("Table lamp", "Towel set", "Storage box", "Cushion", "Kitchen scale"),
        (3_000, 20_000),
        (0.45, 0.60),
    ),
    ProductCategory(
        "tools",
        ("Drill", "Tool kit", "Ladder", "Work gloves", "Safety glasses"),
        (4_000, 80_000),
        (0.30, 0.45),
    ),
    ProductCategory(
        "gifts",
        ("Gift card", "Candle set", "Board game", "Puzzle", "Mug set"),
        (3_000, 12_000),
        (0.50, 0.65),
    ),
    ProductCategory(
        "office",
        ("Paper box", "Office chair", "Printer toner", "Whiteboard", "Desk organiser"),
        (3_000, 70_000),
        (0.35, 0.50),
    ),
)
