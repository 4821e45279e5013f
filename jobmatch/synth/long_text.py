"""Long synthetic résumés (`synth --long`): 1,000-2,000 model tokens, graded facts spread out.

A long résumé has a profile, a career history of several positions, projects, publications
(for research areas), education, skills, languages and interests, sometimes volunteering and
a contact line. What the rules grade (current city, level, areas) sits where real CVs put it,
which is not always the top:

- for `FRONT_FACTS_SHARE` of candidates the profile states current role, city and areas, as
  a short text does;
- otherwise the profile is generic and the facts come with the current position: first in a
  reverse-chronological history, or after every earlier position in a chronological one
  (`CHRONOLOGICAL_SHARE`); earlier positions carry lower titles, other cities and sometimes
  other areas, which are distractors;
- the skills section near the end names the areas again, and for `CONTACT_SHARE` a contact
  line at the very end gives the current city.

Length: each résumé draws a target in `TARGET_TOKENS` and gets generic bullets until
`estimate_tokens` (a word-piece estimate calibrated on all-MiniLM-L6-v2's tokenizer) reaches
it, so the model's token count lands within 1,000-2,000. The structured fields are the short
corpus's for the same seed (only the text differs), so `jobmatch label` gives the same qrels.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from jobmatch.synth.areas import AREAS, FAMILIES, Area
from jobmatch.synth.fields import PersonFacts
from jobmatch.synth.text import join_phrases, place_phrase, title_phrase, years_phrase
from jobmatch.synth.vocab import (
    COMPANY_KINDS,
    DEGREES,
    HOBBIES,
    IMPACT_PHRASES,
    LOCATIONS,
    LONG_AREA_BULLETS,
    LONG_DUTY_OBJECTS,
    LONG_DUTY_OUTCOMES,
    LONG_DUTY_VERBS,
    LONG_GENERIC_BULLETS,
    LONG_PROFILES,
    LONG_PROJECT_DETAILS,
    LONG_PROJECT_OPENINGS,
    LONG_PUBLICATIONS,
    LONG_VOLUNTEERING,
    RESEARCH_IMPACT_PHRASES,
    SPOKEN_LANGUAGES,
    WORK_STYLE,
)

TARGET_TOKENS = (1150, 1850)
"""Range of the per-résumé length target (estimated model tokens); margins keep the true
count inside 1,000-2,000."""
FRONT_FACTS_SHARE = 0.3
CHRONOLOGICAL_SHARE = 0.6
PAST_SAME_CITY_SHARE = 0.15
CONTACT_SHARE = 0.6
CURRENT_YEAR = 2025
_AREA_LIST: tuple[Area, ...] = tuple(AREAS.values())
_WORD = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")


def estimate_tokens(text: str) -> int:
    """Roughly the word pieces of a BERT uncased tokenizer: a piece per punctuation mark or
    number, one per short word and one more per 6 letters beyond the fifth of a long word."""
    return sum(1 + max(0, len(w) - 5) // 6 if w.isalpha() else 1 for w in _WORD.findall(text))


@dataclass
class _Position:
    title: str
    employer: str
    place: str
    start: int
    end: int | None  # None = present
    area: Area
    methods: list[str]
    bullets: list[str] = field(default_factory=list)

    def render(self, style: int) -> str:
        period = f"{self.start}-{self.end or 'present'}"
        if style == 0:
            head = f"{self.title}, {self.employer} ({self.place}), {period}"
        else:
            head = f"{period}: {self.title} at {self.employer}, {self.place}"
        return "\n".join([head, *(f"- {b}" for b in self.bullets)])


def long_candidate_text(person: PersonFacts, r: random.Random) -> str:
    """A long résumé wording `person`'s facts (see the module docstring)."""
    target = r.randint(*TARGET_TOKENS)
    primary = person.areas[0]
    methods = [m for area_methods in person.methods for m in area_methods]
    r.shuffle(methods)
    place = place_phrase(person.city, r) if person.city >= 0 else None
    positions = _positions(person, methods, place, r)
    chronological = r.random() < CHRONOLOGICAL_SHARE
    style = r.randrange(2)
    focus = [r.choice(area.mentions) for area in person.areas]
    sections: dict[str, list[str]] = {"profile": [_profile(person, place, focus, r)]}
    sections["experience"] = []  # rendered from `positions` at the end
    sections["projects"] = [_project(r.choice(person.areas), methods, r) for _ in range(2)]
    family = FAMILIES[primary.family]
    if family.research:
        sections["publications"] = [
            _publication(r.choice(person.areas), methods, family.venues, r)
            for _ in range(r.randint(2, 4))
        ]
    sections["education"] = [_education(person, r)]
    sections["skills"] = [_skills(person, focus, methods, r)]
    sections["languages"] = [f"{join_phrases(r.sample(SPOKEN_LANGUAGES, r.randint(1, 3)))}."]
    sections["interests"] = [f"{join_phrases(r.sample(HOBBIES, 3))}. {r.choice(WORK_STYLE)}"]
    if person.learning:
        sections["skills"].append(f"Currently learning {person.learning}.")
    if r.random() < CONTACT_SHARE:
        where = f"Location: {place}" if place else "Location: remote, not relocating"
        sections["contact"] = [f"{where}. References available on request."]
    _fill(positions, sections, person, methods, target, style, r)
    order = positions if chronological else positions[::-1]
    sections["experience"] = [p.render(style) for p in order]
    headings = {
        "profile": "Profile",
        "experience": "Experience",
        "projects": "Projects",
        "publications": "Publications and talks",
        "education": "Education",
        "skills": "Skills",
        "languages": "Languages",
        "interests": "Interests",
        "volunteering": "Volunteering",
        "contact": "Contact",
    }
    blocks = [f"{headings[name]}\n" + "\n".join(items) for name, items in sections.items() if items]
    return "\n\n".join(blocks)


def _positions(
    person: PersonFacts, methods: list[str], place: str | None, r: random.Random
) -> list[_Position]:
    """Career positions, earliest first, ending with the current one (the graded facts)."""
    years = max(person.years, 0.5)
    count = 2 if person.level == 0 else min(6, max(2, 1 + round(years / 3)))
    start = CURRENT_YEAR - max(1, round(years))
    bounds = sorted({start, *(r.randint(start, CURRENT_YEAR - 1) for _ in range(count - 1))})
    count = len(bounds)
    current_area = person.areas[0]
    out = []
    for i, begin in enumerate(bounds):
        current = i == count - 1
        level = person.level if current else max(0, person.level - (count - 1 - i))
        if current:
            area, city_place = current_area, place or "remote"
            known = methods[:4] or [r.choice(area.methods)]
            title = title_phrase(level, area, r) if r.random() < 0.85 else _generic(area, r)
        else:
            roll = r.random()
            area = (
                current_area
                if roll < 0.45
                else r.choice(person.areas)
                if roll < 0.7
                else r.choice(_AREA_LIST)
            )
            city_place = _past_place(person, place, r)
            known = r.sample(area.methods, min(len(area.methods), r.randint(1, 3)))
            title = title_phrase(level, area, r)
        end = None if current else max(begin, bounds[i + 1])
        position = _Position(title, r.choice(COMPANY_KINDS), city_place, begin, end, area, known)
        position.bullets = [_area_bullet(area, known, r) for _ in range(2 if current else 1)]
        if current:
            position.bullets.append(_impact(person, methods, r))
        out.append(position)
    return out


def _generic(area: Area, r: random.Random) -> str:
    return f"{area.title} {r.choice(('Engineer', 'Developer', 'Specialist'))}"


def _past_place(person: PersonFacts, place: str | None, r: random.Random) -> str:
    """An earlier position's place: the current city, the known past city, or another."""
    roll = r.random()
    if roll < PAST_SAME_CITY_SHARE and place:
        return place
    if roll < 0.6 and person.past_city >= 0:
        return LOCATIONS[person.past_city][0]
    other = r.randrange(len(LOCATIONS))
    if other == person.city:
        other = (other + 1) % len(LOCATIONS)
    return place_phrase(other, r)


def _area_bullet(area: Area, known: list[str], r: random.Random) -> str:
    return r.choice(LONG_AREA_BULLETS).format(
        method=r.choice(known), area=r.choice(area.mentions), n=r.randint(2, 60)
    )


def _impact(person: PersonFacts, methods: list[str], r: random.Random) -> str:
    primary = person.areas[0]
    family = FAMILIES[primary.family]
    phrases = IMPACT_PHRASES[person.impact]
    if family.research:
        phrases += RESEARCH_IMPACT_PHRASES[person.impact]
    return r.choice(phrases).format(
        area=primary.name,
        method=r.choice(methods) if methods else primary.name,
        venue=r.choice(family.venues),
    )


def _profile(person: PersonFacts, place: str | None, focus: list[str], r: random.Random) -> str:
    if r.random() >= FRONT_FACTS_SHARE:
        return r.choice(LONG_PROFILES)
    role = title_phrase(person.level, person.areas[0], r)
    where = f"Based in {place}." if place else "Works fully remotely."
    years = years_phrase(person.years, r)
    return f"{role} with {years} of experience in {join_phrases(focus)}. {where}"


def _project(area: Area, methods: list[str], r: random.Random) -> str:
    method = r.choice([m for m in methods if m in area.methods] or list(area.methods))
    opening = r.choice(LONG_PROJECT_OPENINGS).format(area=r.choice(area.mentions), method=method)
    return f"{opening} {r.choice(LONG_PROJECT_DETAILS)}"


def _publication(area: Area, methods: list[str], venues: tuple[str, ...], r: random.Random) -> str:
    method = r.choice([m for m in methods if m in area.methods] or list(area.methods))
    return r.choice(LONG_PUBLICATIONS).format(
        method=method,
        area=area.name,
        venue=r.choice(venues),
        year=r.randint(CURRENT_YEAR - 12, CURRENT_YEAR),
    )


def _education(person: PersonFacts, r: random.Random) -> str:
    city = person.past_city if person.past_city >= 0 else r.randrange(len(LOCATIONS))
    year = CURRENT_YEAR - round(person.years) - r.randint(0, 2)
    degree = r.choice(DEGREES)
    return f"{degree[0].upper()}{degree[1:]}, {LOCATIONS[city][0]}, {year}."


def _skills(person: PersonFacts, focus: list[str], methods: list[str], r: random.Random) -> str:
    tools = f" Tools: {', '.join(methods)}." if methods else ""
    years = f" {years_phrase(person.years, r).capitalize()} of professional experience."
    return f"Areas: {', '.join(focus)}.{tools}{years}"


def _fill(
    positions: list[_Position],
    sections: dict[str, list[str]],
    person: PersonFacts,
    methods: list[str],
    target: int,
    style: int,
    r: random.Random,
) -> None:
    """Add generic bullets (and now and then a project) until the estimate reaches `target`."""
    fixed = sum(estimate_tokens(item) for items in sections.values() for item in items)
    total = fixed + sum(estimate_tokens(p.render(style)) for p in positions) + 30
    while total < target:
        roll = r.random()
        if roll < 0.08:
            item = _project(r.choice(person.areas), methods, r)
            sections["projects"].append(item)
        elif roll < 0.11:
            item = r.choice(LONG_VOLUNTEERING).format(
                n=r.randint(2, 80), year=r.randint(CURRENT_YEAR - 8, CURRENT_YEAR)
            )
            sections.setdefault("volunteering", []).append(item)
        else:
            position = r.choice(positions)
            item = _generic_bullet(position.bullets, r)
            position.bullets.append(item)
        total += estimate_tokens(item) + 2


def _generic_bullet(taken: list[str], r: random.Random) -> str:
    """A bullet saying nothing about area, level or place, not already in `taken`."""
    for _ in range(8):
        if r.random() < 0.4:
            item = r.choice(LONG_GENERIC_BULLETS)
        else:
            parts = (r.choice(LONG_DUTY_VERBS), r.choice(LONG_DUTY_OBJECTS))
            item = f"{parts[0]} {parts[1]} {r.choice(LONG_DUTY_OUTCOMES)}."
        item = item.format(n=r.randint(2, 60))
        if item not in taken:
            return item
    return item
