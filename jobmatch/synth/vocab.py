"""Vocabulary of the synthetic corpus: places, titles and phrase banks (areas: `areas.py`).

Plain constants kept apart from the generator, so tests, rules and demos can read everything
the generator may say without running it.
"""

from __future__ import annotations

# fmt: off
# (city, country, popularity weight): big hubs are drawn more often by jobs and candidates.
WEIGHTED_LOCATIONS: tuple[tuple[str, str, float], ...] = (
    ("San Francisco", "United States", 10.0), ("New York", "United States", 9.0),
    ("Seattle", "United States", 6.0), ("Boston", "United States", 5.0),
    ("Austin", "United States", 3.0), ("Los Angeles", "United States", 2.5),
    ("Chicago", "United States", 2.5), ("Washington D.C.", "United States", 1.5),
    ("San Diego", "United States", 1.5), ("Atlanta", "United States", 1.2),
    ("Pittsburgh", "United States", 1.0), ("Denver", "United States", 1.0),
    ("Raleigh", "United States", 0.8),
    ("London", "United Kingdom", 7.0), ("Cambridge", "United Kingdom", 1.5),
    ("Edinburgh", "United Kingdom", 1.0), ("Manchester", "United Kingdom", 1.0),
    ("Oxford", "United Kingdom", 0.8), ("Bristol", "United Kingdom", 0.8),
    ("Berlin", "Germany", 4.5), ("Munich", "Germany", 3.5), ("Hamburg", "Germany", 1.2),
    ("Frankfurt", "Germany", 1.0), ("Stuttgart", "Germany", 0.8), ("Cologne", "Germany", 0.6),
    ("Paris", "France", 4.0), ("Lyon", "France", 1.0), ("Grenoble", "France", 0.6),
    ("Toulouse", "France", 0.6), ("Bordeaux", "France", 0.5),
    ("Amsterdam", "Netherlands", 2.5), ("Eindhoven", "Netherlands", 0.8),
    ("Rotterdam", "Netherlands", 0.6), ("Delft", "Netherlands", 0.5),
    ("Zurich", "Switzerland", 2.5), ("Geneva", "Switzerland", 0.8),
    ("Lausanne", "Switzerland", 0.6), ("Basel", "Switzerland", 0.5),
    ("Toronto", "Canada", 3.5), ("Montreal", "Canada", 2.0), ("Vancouver", "Canada", 1.5),
    ("Waterloo", "Canada", 0.6), ("Ottawa", "Canada", 0.5),
    ("Bangalore", "India", 5.0), ("Hyderabad", "India", 2.0), ("Pune", "India", 1.2),
    ("Chennai", "India", 1.0), ("New Delhi", "India", 1.0),
    ("Beijing", "China", 3.0), ("Shanghai", "China", 2.5), ("Shenzhen", "China", 2.0),
    ("Hangzhou", "China", 1.2), ("Guangzhou", "China", 0.8),
    ("Tokyo", "Japan", 3.5), ("Osaka", "Japan", 1.0), ("Kyoto", "Japan", 0.6),
    ("Fukuoka", "Japan", 0.5),
    ("Seoul", "South Korea", 3.0), ("Daejeon", "South Korea", 0.6),
    ("Busan", "South Korea", 0.5),
    ("Singapore", "Singapore", 2.5),
    ("Madrid", "Spain", 1.5), ("Barcelona", "Spain", 1.5), ("Valencia", "Spain", 0.5),
)

LOCATIONS: list[tuple[str, str]] = [(city, country) for city, country, _ in WEIGHTED_LOCATIONS]
CITY_WEIGHTS: tuple[float, ...] = tuple(weight for _, _, weight in WEIGHTED_LOCATIONS)

# Short names people write instead of the full country name.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "United States": ("USA", "US"),
    "United Kingdom": ("UK",),
    "Netherlands": ("the Netherlands",),
    "South Korea": ("Korea",),
}

# Level 0..5 (intern .. principal). "{field}" is replaced by the area's title form, so level 3
# and nlp give e.g. "Senior NLP Engineer".
SENIORITY_TITLES: dict[int, tuple[str, ...]] = {
    0: (
        "{field} Intern",
        "Research Intern, {field}",
        "{field} Engineering Intern",
        "Student Researcher in {field}",
    ),
    1: (
        "Junior {field} Engineer",
        "Graduate {field} Developer",
        "Associate {field} Engineer",
        "Junior {field} Researcher",
    ),
    2: (
        "{field} Engineer",
        "{field} Developer",
        "{field} Engineer II",
        "Research Engineer, {field}",
    ),
    3: (
        "Senior {field} Engineer",
        "Senior Research Scientist, {field}",
        "Lead {field} Developer",
        "Senior {field} Developer",
    ),
    4: (
        "Staff {field} Engineer",
        "Tech Lead, {field}",
        "Staff Research Scientist, {field}",
        "Engineering Manager, {field}",
    ),
    5: (
        "Principal {field} Engineer",
        "Distinguished Engineer, {field}",
        "Head of {field}",
        "Principal Research Scientist, {field}",
    ),
}

# Years of experience drawn uniformly per level (ranges overlap, as they do in real life).
YEARS_BY_LEVEL: dict[int, tuple[float, float]] = {
    0: (0.0, 1.0),
    1: (1.0, 3.0),
    2: (2.5, 6.0),
    3: (5.0, 10.0),
    4: (8.0, 15.0),
    5: (12.0, 25.0),
}
# Minimum years a job at each level asks for.
JOB_MIN_YEARS: dict[int, int] = {0: 0, 1: 1, 2: 3, 3: 5, 4: 8, 5: 12}

# Hidden impact 0..3: what the person has visibly achieved, said only in the text. Research
# phrases are used only for people whose primary area belongs to a research family. Every
# phrase starts with a past-tense verb so "I " can be put in front of it.
IMPACT_PHRASES: dict[int, tuple[str, ...]] = {
    0: (
        "Built course projects and proof-of-concept demos in {area}.",
        "Worked mainly on internal prototypes that never reached production.",
        "Assisted colleagues with small {area} experiments.",
    ),
    1: (
        "Contributed features to a production {area} system.",
        "Shipped incremental improvements to an existing service built on {method}.",
        "Fixed bugs and wrote tests for a team using {method}.",
    ),
    2: (
        "Led the production deployment of {method} pipelines used by millions of users.",
        "Owned the {area} stack end to end, from design to on-call.",
        "Designed and launched a {area} service that now handles peak traffic.",
    ),
    3: (
        "Created and maintained a popular open-source library for {method} with 10k+ stars.",
        "Set the technical direction for {area} company-wide and drove launches to 50M+ users.",
        "Built the company's {area} platform from scratch and grew the team around it.",
    ),
}
RESEARCH_IMPACT_PHRASES: dict[int, tuple[str, ...]] = {
    0: ("Completed a master's thesis on {method} without publications yet.",),
    1: ("Co-authored a workshop paper on {method}.",),
    2: ("Published first-author papers at {venue}.",),
    3: ("Received a best paper award at {venue} for work on {method}.",),
}

# Sentences about a city the person does not live in now. Past-tense first word again.
PAST_CITY_PHRASES: tuple[str, ...] = (
    "Grew up in {city}.",
    "Studied in {city}, {country}.",
    "Spent {n} years working in {city} before moving.",
    "Completed a PhD in {city}.",
    "Moved away from {city} in {year}.",
    "Started out at a small startup in {city}.",
)

HOBBIES: tuple[str, ...] = (
    "bouldering",
    "trail running",
    "sourdough baking",
    "chess",
    "jazz piano",
    "birdwatching",
    "cycling",
    "amateur astronomy",
    "board games",
    "woodworking",
    "photography",
    "sailing",
    "marathon training",
    "volunteering at coding clubs",
    "learning Japanese",
    "home brewing",
    "gardening",
    "salsa dancing",
    "rock climbing",
    "writing short fiction",
)

WORK_STYLE: tuple[str, ...] = (
    "Enjoys mentoring and writing clear design docs.",
    "Cares about clean code, testing and honest code reviews.",
    "Comfortable working across product, research and infrastructure teams.",
    "Prefers small teams with a lot of ownership.",
    "Values reproducible experiments and careful evaluation.",
    "Likes turning vague problems into measurable goals.",
)

COMPANY_KINDS: tuple[str, ...] = (
    "a Series B fintech startup",
    "a large e-commerce company",
    "a university spin-off",
    "a healthcare scale-up",
    "a public research institute",
    "a logistics platform",
    "a gaming studio",
    "an industrial automation group",
    "a consumer social app",
    "a cloud software vendor",
    "an online travel company",
    "a climate-tech startup",
)

PERKS: tuple[str, ...] = (
    "We offer a learning budget and flexible hours.",
    "Equity, private health insurance and 30 days of paid leave are included.",
    "Visa sponsorship and relocation support are available.",
    "The team ships weekly and keeps meetings to a minimum.",
    "Four-day work weeks are being piloted across the company.",
    "Parental leave is generous and the hiring process has two interviews.",
)

DEGREES: tuple[str, ...] = (
    "an MSc in Computer Science", "a BSc in Mathematics", "a PhD in Physics",
    "an MEng in Electrical Engineering", "a BSc in Statistics", "a PhD in Computer Science",
    "an MSc in Applied Mathematics", "a BA in Linguistics", "an MSc in Mechanical Engineering",
    "a BSc in Biology",
)

SPOKEN_LANGUAGES: tuple[str, ...] = (
    "English", "German", "French", "Spanish", "Mandarin", "Hindi", "Japanese", "Korean",
    "Portuguese", "Polish", "Hebrew", "Swedish", "Dutch", "Italian",
)

JOB_DUTIES: tuple[str, ...] = (
    "You'll own features from design review to launch and join a light on-call rotation.",
    "Expect to split your time between prototyping, code review and mentoring.",
    "You'll turn product questions into experiments and ship the results.",
    "The role involves close work with product managers and a small research group.",
    "Day to day you'll write design docs, build services and measure their impact.",
    "You will help shape the roadmap and raise the bar on testing.",
)

TEAM_FACTS: tuple[str, ...] = (
    "The team has {n} engineers and ships to customers every week.",
    "We are a group of {n} people who value written communication.",
    "The team of {n} was formed last year and is growing.",
    "You'll join {n} engineers who care about quality and fast feedback.",
)
# fmt: on
