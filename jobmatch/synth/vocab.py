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

# ---------------------------------------------------------------- long résumés (synth --long)
# fmt: off
# Bullets of a position; {method} is a method of the position's area, {area} its name.
LONG_AREA_BULLETS: tuple[str, ...] = (
    "Built {method} pipelines that cut processing time by {n}% for the {area} team.",
    "Rewrote the {area} evaluation harness around {method}, so every change is scored overnight.",
    "Ran weekly experiments with {method} and wrote up the results for the product leads.",
    "Maintained the {method} components of the {area} stack and handled their on-call.",
    "Designed the data model behind our {area} features and migrated {n} services to it.",
    "Introduced {method} to the team and trained {n} colleagues to use it well.",
    "Profiled and tuned the {method} code path, halving memory use on the largest customers.",
    "Owned the roadmap for {area} tooling and shipped it in quarterly milestones.",
    "Paired with researchers to turn a {method} prototype into a tested library.",
    "Wrote the internal guide to {method} that new hires in {area} still start from.",
    "Reviewed designs for {area} projects across {n} teams and kept a decision log.",
    "Automated the release of {method} models, from training data checks to rollout.",
)
# Bullets that reveal nothing about area, level or place: the bulk of a long résumé.
LONG_GENERIC_BULLETS: tuple[str, ...] = (
    "Mentored {n} junior colleagues and ran the team's fortnightly reading group.",
    "Kept the continuous integration green and brought build times down to {n} minutes.",
    "Interviewed candidates and helped rewrite the hiring rubric for engineers.",
    "Wrote runbooks for the services the team owned and trimmed pages by {n}%.",
    "Coordinated with legal and security reviewers before every external launch.",
    "Organised an internal hackathon with {n} participating teams.",
    "Documented onboarding steps so a new teammate could ship on the first day.",
    "Represented the team in the architecture forum and presented quarterly updates.",
    "Worked closely with designers and product managers on weekly planning.",
    "Cleaned up years of technical debt in the deployment scripts.",
    "Set up dashboards and alerts for the team's key service-level objectives.",
    "Ran post-incident reviews and followed up on every action item.",
    "Drafted the team's testing strategy and raised coverage to {n}%.",
    "Supported customers directly during a large migration project.",
    "Gave {n} talks at internal tech days about lessons learned in production.",
    "Helped the team move from monthly to weekly releases without extra incidents.",
)
# Generic bullets are also composed as verb + object + outcome, for variety over long texts.
LONG_DUTY_VERBS: tuple[str, ...] = (
    "Led", "Drove", "Coordinated", "Planned and delivered", "Took over", "Simplified",
    "Streamlined", "Co-designed", "Championed", "Rebuilt", "Scoped and shipped", "Supported",
)
LONG_DUTY_OBJECTS: tuple[str, ...] = (
    "the migration of the billing service to a new message queue",
    "the move of our batch jobs to a managed scheduler",
    "the quarterly planning process of a group of {n} engineers",
    "the cost review of the team's cloud accounts",
    "the rewrite of a legacy reporting tool",
    "the clean-up of access rights across internal systems",
    "the consolidation of three logging stacks into one",
    "the team's incident response process",
    "the redesign of the public developer documentation",
    "the rollout of feature flags across the product",
    "the upgrade of every service to a supported runtime",
    "the internal API guidelines",
    "the data retention policy and its tooling",
    "the accessibility audit of the customer-facing pages",
)
LONG_DUTY_OUTCOMES: tuple[str, ...] = (
    "ahead of schedule", "with no customer-facing downtime", "cutting monthly costs by {n}%",
    "which reduced incidents by {n}%", "in close contact with {n} stakeholder teams",
    "while keeping the old path running until sign-off", "and handed it over with runbooks",
    "saving roughly {n} engineer-days per quarter", "on a tight budget",
)
LONG_PROJECT_OPENINGS: tuple[str, ...] = (
    "An open-source tool for {area} built on {method}.",
    "A side project exploring {method} on public {area} benchmarks.",
    "A teaching notebook series on {method} for a local meetup.",
    "A weekend prototype that applies {method} to a small {area} dataset.",
    "A community library of {area} utilities around {method}.",
)
LONG_PROJECT_DETAILS: tuple[str, ...] = (
    "It has a small but steady group of contributors and a documented test suite.",
    "The write-up compares three baselines and reports where each one fails.",
    "Most of the work went into clean data loading and reproducible results.",
    "It runs on a laptop in minutes and ships with worked examples.",
    "Feedback from users shaped a second version with a simpler interface.",
    "The code is small, typed, and covered by continuous integration.",
)
LONG_PUBLICATIONS: tuple[str, ...] = (
    "\"Revisiting {method} for {area}\", workshop at {venue}, {year}.",
    "\"A practical study of {method}\", {venue}, {year}.",
    "\"Lessons from deploying {method} at scale\", talk at {venue}, {year}.",
    "\"Benchmarks for {area} under distribution shift\", {venue}, {year}.",
)
LONG_PROFILES: tuple[str, ...] = (
    "Hands-on engineer who likes owning problems end to end, from the first sketch to "
    "production and the on-call rotation after it.",
    "Curious, practical and steady under pressure; happiest in small teams that ship often "
    "and measure what they ship.",
    "Builder with a habit of writing things down: design notes, runbooks and honest "
    "post-mortems.",
    "Generalist at heart who has worked across research, product and infrastructure teams "
    "and enjoys translating between them.",
)
LONG_VOLUNTEERING: tuple[str, ...] = (
    "Volunteer mentor at a coding school for career changers, {year} to present.",
    "Organiser of a monthly engineering meetup with around {n} regular attendees.",
    "Reviewer for a student research competition for the last {n} years.",
    "Maintainer of the documentation of a small open-source project.",
)
# fmt: on
