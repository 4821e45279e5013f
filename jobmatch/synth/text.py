"""Free text of the synthetic corpus: every structured field worded in varied, paraphrased
form, beside distractors (a past city, conferences, hobbies) a model must learn to ignore."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jobmatch.synth.areas import FAMILIES, Area
from jobmatch.synth.fields import JobFacts, PersonFacts
from jobmatch.synth.vocab import (
    COMPANY_KINDS,
    COUNTRY_ALIASES,
    DEGREES,
    HOBBIES,
    IMPACT_PHRASES,
    JOB_DUTIES,
    JOB_MIN_YEARS,
    LOCATIONS,
    PAST_CITY_PHRASES,
    PERKS,
    RESEARCH_IMPACT_PHRASES,
    SENIORITY_TITLES,
    SPOKEN_LANGUAGES,
    TEAM_FACTS,
    WORK_STYLE,
)

# ---------------------------------------------------------------- shared phrasing


def join_phrases(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _with_article(phrase: str) -> str:
    """'a Senior ...', 'an NLP ...', 'an Engineering ...' (acronyms read letter by letter)."""
    word = phrase.split()[0]
    acronym = len(word) > 1 and word[:2].isupper()
    vowel = word[0] in ("AEFHILMNORSX" if acronym else "AEIOUaeiou")
    return f"{'an' if vowel else 'a'} {phrase}"


def _lower_first(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:]


def place_phrase(city: int, r: random.Random) -> str:
    """'Munich', 'Munich, Germany' or 'London, UK': the country is sometimes left out."""
    name, country = LOCATIONS[city]
    if r.random() < 0.45:
        return name
    country = r.choice((country, *COUNTRY_ALIASES.get(country, ())))
    return name if country == name else f"{name}, {country}"


def title_phrase(level: int, area: Area, r: random.Random) -> str:
    return r.choice(SENIORITY_TITLES[level]).format(field=area.title)


def _generic_role(area: Area, r: random.Random) -> str:
    """A role that names the area but not the level ('NLP engineer')."""
    return f"{area.title} {r.choice(('engineer', 'developer', 'specialist', 'practitioner'))}"


def years_phrase(years: float, r: random.Random) -> str:
    """'less than a year', '1.5 years', '7 years', 'over 7 years', '7+ years'."""
    if years < 1:
        return r.choice(("less than a year", "under a year"))
    whole = int(years)
    if years >= 3 and r.random() < 0.5:
        return r.choice((f"over {whole} years", f"{whole}+ years"))
    return "1 year" if years == 1 else f"{years:g} years"


def _mentions(areas: list[Area], methods: list[list[str]], r: random.Random) -> list[str]:
    """Names for the areas: always for areas without a mentioned method, else sometimes."""
    picked = [
        r.choice(area.mentions)
        for area, area_methods in zip(areas, methods[: len(areas)], strict=True)
        if not area_methods or r.random() < 0.55
    ]
    return picked or [r.choice(r.choice(areas).mentions)]


def _past_city(city: int, r: random.Random) -> str:
    name, country = LOCATIONS[city]
    return r.choice(PAST_CITY_PHRASES).format(
        city=name, country=country, n=r.randint(2, 6), year=r.randint(2008, 2022)
    )


# ---------------------------------------------------------------- candidate templates


@dataclass
class _CandidatePieces:
    """What a candidate text must say, already worded; templates only arrange it."""

    role: str  # a level title ("Senior NLP Engineer") or, when years carry the level, generic
    years: str | None
    place: str | None  # None for remote candidates
    city: str | None
    focus: list[str]
    methods: list[str]
    impact: str
    learning: str | None
    past: str | None
    hobbies: list[str]
    venue: str
    style: str
    degree: str
    employer: str
    languages: list[str]
    open_to_remote: bool


def candidate_text(person: PersonFacts, r: random.Random) -> str:
    primary = person.areas[0]
    show = r.random()
    methods = [m for area_methods in person.methods for m in area_methods]
    r.shuffle(methods)
    city = LOCATIONS[person.city][0] if person.city >= 0 else None
    impact_method = r.choice(methods) if methods else primary.name
    family = FAMILIES[primary.family]
    phrases = IMPACT_PHRASES[person.impact]
    if family.research:
        phrases += RESEARCH_IMPACT_PHRASES[person.impact]
    impact = r.choice(phrases).format(
        area=primary.name, method=impact_method, venue=r.choice(family.venues)
    )
    pieces = _CandidatePieces(
        role=title_phrase(person.level, primary, r) if show < 0.75 else _generic_role(primary, r),
        years=years_phrase(person.years, r) if show >= 0.4 else None,
        place=place_phrase(person.city, r) if city else None,
        city=city,
        focus=_mentions(person.areas, person.methods, r),
        methods=methods,
        impact=impact,
        learning=person.learning,
        past=_past_city(person.past_city, r) if person.past_city >= 0 else None,
        hobbies=r.sample(HOBBIES, 2),
        venue=r.choice(FAMILIES[r.choice(person.areas).family].venues),
        style=r.choice(WORK_STYLE),
        degree=r.choice(DEGREES),
        employer=r.choice(COMPANY_KINDS),
        languages=r.sample(SPOKEN_LANGUAGES, r.randint(1, 3)),
        open_to_remote=city is not None and r.random() < 0.08,
    )
    return r.choice(CANDIDATE_TEMPLATES)(pieces, r)


def _sentences(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def _resume_summary(p: _CandidatePieces, r: random.Random) -> str:
    if p.years:
        opening = f"{p.role} with {p.years} of experience in {join_phrases(p.focus)}."
    else:
        opening = f"{p.role} specialising in {join_phrases(p.focus)}."
    if p.place is None:
        where = r.choice(("Works fully remotely.", "Remote-only; not looking to relocate."))
    else:
        where = r.choice(
            ("Based in {place}.", "{city}-based.", "Currently located in {place}.",
             "Relocated to {place} in {year}.", "Lives and works in {place}.")
        ).format(place=p.place, city=p.city, year=r.randint(2015, 2024))  # fmt: skip
    tools = r.choice(("Hands-on with", "Core toolkit:", "Day-to-day tools include"))
    return _sentences(
        opening,
        where,
        f"{tools} {join_phrases(p.methods)}." if p.methods else None,
        p.impact,
        f"Most recently at {p.employer}.",
        p.style,
        f"Currently learning {p.learning}." if p.learning else None,
        "Open to remote roles." if p.open_to_remote else None,
        f"Holds {p.degree}.",
        p.past,
        f"Speaks {join_phrases(p.languages)}.",
        f"Outside work: {join_phrases(p.hobbies)}.",
    )


def _researcher_profile(p: _CandidatePieces, r: random.Random) -> str:
    if p.place is None:
        where = "Works remotely with collaborators across several time zones."
    else:
        where = r.choice(
            ("Affiliated with a lab in {place}.", "Currently at a research group in {place}.",
             "Based in {place}.", "Works from the {city} office of an applied research team.")
        ).format(place=p.place, city=p.city)  # fmt: skip
    return _sentences(
        f"Research profile. {p.role}, working on {join_phrases(p.focus)}.",
        f"Methods used in recent projects: {join_phrases(p.methods)}." if p.methods else None,
        f"Has {p.years} of research and engineering experience." if p.years else None,
        where,
        p.impact,
        f"Attends {p.venue} most years.",
        f"Exploring {p.learning} for upcoming work." if p.learning else None,
        f"Holds {p.degree}.",
        p.past,
        p.style,
        f"Away from research: {join_phrases(p.hobbies)}.",
    )


def _first_person_bio(p: _CandidatePieces, r: random.Random) -> str:
    if p.place is None:
        where = "I work fully remotely and don't plan to relocate."
    else:
        where = r.choice(("I'm based in {place}.", "I live in {place}.", "I moved to {place}."))
        where = where.format(place=p.place)
    work = f"I've been working on {join_phrases(p.focus)}"
    return _sentences(
        f"Hi, I'm {_with_article(p.role)}.",
        where,
        f"{work} for {p.years}." if p.years else f"{work}.",
        f"Most of my work uses {join_phrases(p.methods)}." if p.methods else None,
        f"I {_lower_first(p.impact)}",
        f"These days I work at {p.employer}, and I have {p.degree}.",
        f"Right now I'm learning {p.learning}." if p.learning else None,
        "I'm also open to remote positions." if p.open_to_remote else None,
        f"I {_lower_first(p.past)}" if p.past else None,
        f"In my free time I enjoy {join_phrases(p.hobbies)}.",
        f"I usually go to {p.venue}.",
    )


def _bullet_cv(p: _CandidatePieces, r: random.Random) -> str:
    bullet = r.choice(("- ", "• ", "* "))
    lines = [
        f"Current role: {p.role}",
        f"Location: {p.place}" if p.place else "Location: Remote (no relocation)",
        f"Experience: {p.years}" if p.years else None,
        f"Focus areas: {', '.join(p.focus)}",
        f"Skills: {', '.join(p.methods)}" if p.methods else None,
        f"Highlights: {p.impact}",
        f"Last employer: {p.employer}",
        f"Education: {p.degree}",
        f"Languages: {', '.join(p.languages)}",
        f"Learning: {p.learning}" if p.learning else None,
        f"Background: {p.past}" if p.past else None,
        f"Conferences: {p.venue}",
        f"Interests: {', '.join(p.hobbies)}",
    ]
    return "\n".join(bullet + line for line in lines if line)


def _referral_note(p: _CandidatePieces, r: random.Random) -> str:
    where = f", now based in {p.place}" if p.place else ", who works remotely"
    experience = f" with {p.years} of experience" if p.years else ""
    return _sentences(
        f"Referral: {_with_article(p.role)}{experience}{where}.",
        f"Their focus is {join_phrases(p.focus)}.",
        f"Strong with {join_phrases(p.methods)}." if p.methods else None,
        p.impact,
        f"We overlapped at {p.employer}.",
        p.style,
        f"They hold {p.degree} and speak {join_phrases(p.languages)}.",
        p.past,
        f"Spends free time on {join_phrases(p.hobbies)}.",
    )


CandidateTemplate = Callable[[_CandidatePieces, random.Random], str]
CANDIDATE_TEMPLATES: tuple[CandidateTemplate, ...] = (
    _resume_summary,
    _researcher_profile,
    _first_person_bio,
    _bullet_cv,
    _referral_note,
)


# ---------------------------------------------------------------- job templates


@dataclass
class _JobPieces:
    """What a job text must say, already worded; templates only arrange it."""

    title: str
    years: str | None  # "5+ years of experience" or, for interns, "no prior experience"
    where: str  # contains "remote" exactly when the job is remote
    city: str | None
    focus: list[str]
    must: list[str]
    nice: list[str]
    company: str
    distractor: str | None
    perk: str
    duty: str
    team: str


def _job_years(level: int, r: random.Random) -> str:
    minimum = JOB_MIN_YEARS[level]
    if minimum == 0:
        return r.choice(("coursework or internship experience", "a strong academic record"))
    unit = "year" if minimum == 1 else "years"
    return r.choice(
        (f"{minimum}+ {unit} of experience", f"at least {minimum} {unit} of experience",
         f"{minimum}+ {unit} in a similar role")
    )  # fmt: skip


def _job_where(job: JobFacts, r: random.Random) -> str:
    if job.city < 0:
        return r.choice(("fully remote", "remote, anywhere in the world", "100% remote"))
    place = place_phrase(job.city, r)
    if job.remote:
        options = ("remote-friendly, with an office in {place}", "remote (optional desk in {city})")
    else:
        options = ("in {place}", "on-site in {place}", "hybrid in {place}", "at our {city} office")
    return r.choice(options).format(place=place, city=LOCATIONS[job.city][0])


def _job_distractor(city: int, r: random.Random) -> str | None:
    if city < 0:
        return None
    name = LOCATIONS[city][0]
    return r.choice(
        ("The company is headquartered in {city}.", "Our yearly offsite takes place in {city}.",
         "The founders started the company in {city}.",
         "You'll collaborate with a sister team in {city}.")
    ).format(city=name)  # fmt: skip


def job_text(job: JobFacts, r: random.Random) -> str:
    primary = job.areas[0]
    said = set(job.must) | set(job.nice)
    per_area = [[m for m in area.methods if m in said] for area in job.areas]
    show_title = job.level == 0 or r.random() < 0.75
    pieces = _JobPieces(
        title=title_phrase(job.level, primary, r) if show_title else _generic_role(primary, r),
        years=_job_years(job.level, r) if not show_title or r.random() < 0.5 else None,
        where=_job_where(job, r),
        city=LOCATIONS[job.city][0] if job.city >= 0 else None,
        focus=_mentions(job.areas, per_area, r),
        must=job.must,
        nice=job.nice,
        company=r.choice(COMPANY_KINDS),
        distractor=_job_distractor(job.other_city, r),
        perk=r.choice(PERKS),
        duty=r.choice(JOB_DUTIES),
        team=r.choice(TEAM_FACTS).format(n=r.randint(3, 15)),
    )
    return r.choice(JOB_TEMPLATES)(pieces, r)


def _posting(p: _JobPieces, r: random.Random) -> str:
    company = p.company[0].upper() + p.company[1:]
    return _sentences(
        f"{company} is hiring {_with_article(p.title)}, {p.where}.",
        f"You will work on {join_phrases(p.focus)}.",
        p.duty,
        f"Must have: {join_phrases(p.must)}.",
        f"Nice to have: {join_phrases(p.nice)}." if p.nice else None,
        f"We expect {p.years}." if p.years else None,
        p.distractor,
        p.perk,
    )


def _recruiter_message(p: _JobPieces, r: random.Random) -> str:
    bonus = f" Bonus if you know {join_phrases(p.nice)}." if p.nice else ""
    return _sentences(
        f"Hi there! I'm recruiting for {_with_article(p.title)} role at {p.company}, {p.where}.",
        f"The team focuses on {join_phrases(p.focus)}.",
        p.team,
        f"They really need hands-on experience with {join_phrases(p.must)}.{bonus}",
        f"Ideally you bring {p.years}." if p.years else None,
        p.distractor,
        p.perk,
        "Would you be up for a quick call this week?",
    )


def _team_blurb(p: _JobPieces, r: random.Random) -> str:
    return _sentences(
        f"Our team at {p.company} builds products around {join_phrases(p.focus)}.",
        f"We're looking for {_with_article(p.title)} to join us ({p.where}).",
        f"What you need: {join_phrases(p.must)}.",
        f"What would be great: {join_phrases(p.nice)}." if p.nice else None,
        f"We ask for {p.years}." if p.years else None,
        p.duty,
        p.distractor,
        p.perk,
    )


def _terse_listing(p: _JobPieces, r: random.Random) -> str:
    lines = [
        f"{p.title} — {p.where}",
        f"Req: {', '.join(p.must)}",
        f"Plus: {', '.join(p.nice)}" if p.nice else None,
        f"Exp: {p.years}" if p.years else None,
        f"Areas: {', '.join(p.focus)}",
        f"Company: {p.company}",
        p.team,
        p.duty,
        p.distractor,
        p.perk,
    ]
    return "\n".join(line for line in lines if line)


JobTemplate = Callable[[_JobPieces, random.Random], str]
JOB_TEMPLATES: tuple[JobTemplate, ...] = (
    _posting,
    _recruiter_message,
    _team_blurb,
    _terse_listing,
)
