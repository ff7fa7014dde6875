"""A synthetic site on a local stack, sized by its number of entries, for benchmarks.

``generate_site(root, entries=10_000, locales=2, seed=1)`` writes a complete site folder:

    root/sitegen.toml        [stack] local = "stack", one [locales.*] table per locale
    root/templates/          base.html, one template per content type with a url, embedded/
    root/static/css/site.css
    root/stack/              the local stack (docs: /reference/local-stack/)

The content model looks like a real journal:

- ``team`` (a handful, no url), the second level of post -> author -> team;
- ``author`` (~1% of entries, url, team reference, photo); ``popular_author`` writes 5% of the
  posts (every 20th), so renaming them touches many pages;
- ``category`` (~0.5%, url, parent category reference: post -> category -> parent);
- ``post`` (the bulk: url, date, author, 1-3 categories, a JSON-RTE body of 2-10 KB with
  headings, paragraphs with marks and links, lists, quotes and sometimes embedded assets,
  links to older posts and author blocks as ``reference`` nodes, a markdown ``notes`` field);
- ``page`` (a few, HTML-RTE body with embedded asset figures), ``home`` (the page at ``/``,
  whose template lists the 20 newest posts through ``entries("post", sort="-date",
  limit=20)``), a ``site_chrome`` singleton, and 50 small SVG assets.

The first locale is the master locale. Every further locale localizes ~20% of the posts, all
categories, the pages, the home page and the chrome; the rest falls back to the master locale.

With ``taxonomy=True`` the stack also gets a Contentstack taxonomy, ``topics``
(``stack/taxonomies/topics.json``): 6 root terms × 4 children × 3 grandchildren = 102 terms,
about half of them named in every further locale. Posts get a ``taxonomies`` field holding 1-2
terms each (mostly leaves, some mid-level ones, drawn from their own generator so that the rest
of the site is the same as without the taxonomy), and sitegen.toml a term listing
``/topics/{term}/`` (``templates/topic.html``, 20 posts a page): every term has a page per
locale listing the posts tagged with it or a term below it. Term uids are the path of names
(``craft``, ``craft-typesetting``, ``craft-typesetting-basics``), so they never meet the
category slugs that share ``/topics/``.

Output is a pure function of (entries, locales, seed): dates are pinned with ``created_at`` /
``updated_at``, uids and text come from one seeded generator. Entry files are compact JSON (one
line each: pretty printing would take most of the generation time); the small files
(stack.json, content types, assets) are indented.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MASTER_LOCALE = "en-us"
# (code, name, URL prefix); the first `locales` of them are used.
LOCALES = [
    ("en-us", "English", ""),
    ("fr-fr", "Français", "/fr"),
    ("de-de", "Deutsch", "/de"),
    ("es-es", "Español", "/es"),
    ("ja-jp", "日本語", "/ja"),
    ("it-it", "Italiano", "/it"),
    ("pt-br", "Português", "/pt"),
    ("nl-nl", "Nederlands", "/nl"),
]
LOCALIZED_POST_SHARE = 0.2
POPULAR_AUTHOR_EVERY = 20  # the popular author writes every 20th post: 5%
ASSET_COUNT = 50
HOME_LATEST = 20
MARKER = ".synth-site.json"  # marks a folder as generated (a benchmark may replace it)
FIRST_POST_DATE = datetime(2014, 1, 6, 8, 0, tzinfo=UTC)
POST_SPAN_DAYS = 365 * 11
# Edits made by the SynthSite helpers are dated after everything generated.
EDIT_DATE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

PAGES = [
    ("about", "About us"),
    ("contact", "Contact"),
    ("colophon", "Colophon"),
    ("privacy", "Privacy policy"),
    ("imprint", "Imprint"),
    ("careers", "Careers"),
]

# -- vocabularies ----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


EN_WORDS = _words(
    """
the a an of to in for on with and or but that this these those it its we our you your they
their is are was were be been being has have had will would can could should may might must
not only also just very more most less fewer many much some every each other another same
site page pages content editor editors team teams release releases build builds cache caches
server servers browser browsers request requests response responses image images font fonts
layout layouts grid grids color colour contrast type scale heading headings paragraph link
links menu menus form forms field fields button buttons token tokens deploy deploys pipeline
component components template templates locale locales language languages translation copy
reader readers visitor visitors search index archive feed feeds draft drafts review reviews
design designer designers developer developers studio client clients project projects budget
performance accessibility latency bandwidth network networks device devices screen screens
small large quick slow careful simple clear plain honest useful fragile robust stable modern
old new first last next early late quiet busy shared local remote static dynamic visible
write writes wrote read reads measure measures ship ships test tests fix fixes break breaks
keep keeps move moves change changes publish publishes render renders load loads serve serves
learn learned plan plans start starts finish finishes choose chooses trust trusts explain
because when where while after before during without within across between around through
today tomorrow yesterday week month year morning evening always often rarely never sometimes
"""
)
FR_WORDS = _words(
    """
le la les un une des de du et ou mais que qui ce cette ces il elle nous vous ils leur est
sont était sera peut doit aussi très plus moins chaque autre même site page pages contenu
équipe version cache serveur navigateur requête image police mise en page grille couleur
contraste titre paragraphe lien menu formulaire champ bouton déploiement modèle langue
traduction lecteur visiteur recherche archive brouillon relecture conception développeur
atelier client projet budget performance accessibilité réseau appareil écran petit grand
rapide lent simple clair utile fragile robuste stable moderne ancien nouveau premier dernier
écrire lire mesurer livrer tester corriger garder changer publier rendre charger servir
apprendre choisir expliquer parce quand pendant après avant sans avec entre toujours souvent
"""
)
DE_WORDS = _words(
    """
der die das ein eine und oder aber dass wer dieser diese es sie wir ihr ist sind war wird
kann muss auch sehr mehr weniger jede andere gleiche Seite Seiten Inhalt Team Version Cache
Server Browser Anfrage Bild Schrift Raster Farbe Kontrast Titel Absatz Link Menü Formular
Feld Knopf Vorlage Sprache Übersetzung Leser Besucher Suche Archiv Entwurf Entwurfsprüfung
Gestaltung Entwickler Studio Kunde Projekt Budget Leistung Barrierefreiheit Netzwerk Gerät
Bildschirm klein groß schnell langsam einfach klar nützlich robust stabil modern alt neu
erste letzte schreiben lesen messen liefern testen beheben behalten ändern veröffentlichen
laden lernen wählen erklären weil wenn während nach vor ohne mit zwischen immer oft selten
"""
)
ES_WORDS = _words(
    """
el la los las un una de del y o pero que quien este esta estos es son era será puede debe
también muy más menos cada otro mismo sitio página páginas contenido equipo versión caché
servidor navegador petición imagen fuente cuadrícula color contraste título párrafo enlace
menú formulario campo botón despliegue plantilla idioma traducción lector visitante búsqueda
archivo borrador revisión diseño desarrollador estudio cliente proyecto presupuesto
rendimiento accesibilidad red dispositivo pantalla pequeño grande rápido lento sencillo claro
útil frágil robusto estable moderno viejo nuevo primero último escribir leer medir publicar
probar corregir cambiar cargar servir aprender elegir explicar porque cuando durante después
antes sin con entre siempre a menudo nunca
"""
)
SYLLABLES = {
    "ja-jp": list(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    ),
    "it-it": _words("la le il lo di da per con non che re ta to ri ne so va ci mo pa ro te lu ma"),
    "pt-br": _words("de do da em um uma que com não por os as ção mais ser ter vo ca lo ri na te"),
    "nl-nl": _words("de het een van en in op te dat die niet met zijn aan er ook als voor ge ver"),
}

TITLE_ADJECTIVES = _words(
    """
Quiet Practical Small Honest Fast Slow Careful Plain Better Boring Reliable Accessible
Lightweight Resilient Friendly Modern Forgotten Hidden Simple Sustainable Incremental Static
"""
)
TITLE_NOUNS = _words(
    """
caches builds deploys fonts grids layouts forms menus images tokens pipelines templates
translations archives feeds previews redirects headers budgets components colours buttons
sitemaps releases drafts reviews audits migrations
"""
)
TITLE_PATTERNS = [
    "{Adj} {noun} for {noun2}",
    "Notes on {noun} and {noun2}",
    "What we learned about {noun}",
    "A field guide to {adj} {noun}",
    "Why {noun} beat {noun2}",
    "{Adj} {noun}, {adj2} {noun2}",
    "The case for {adj} {noun}",
    "How we ship {noun} without breaking {noun2}",
]
FIRST_NAMES = _words(
    """
Ada Aiko Amara Bea Bruno Carmen Dara Elif Emil Farah Gus Hana Ines Ivo Jonas Kai Lea Lina
Malik Maya Nico Noor Oskar Priya Rafa Rosa Sami Tomas Una Vera Wen Yara Zoe
"""
)
LAST_NAMES = _words(
    """
Okafor Tanaka Weber Moreau Raman Lindqvist Costa Novak Haddad Silva Kowalski Dubois Becker
Nakamura Rossi Jensen Moreno Schmidt Larsen Petrov Yilmaz Fischer Garcia Ito Berg
"""
)
ROLES = [
    "Designer",
    "Developer",
    "Editor",
    "Content strategist",
    "Accessibility lead",
    "Producer",
]
TEAM_NAMES = [
    "Design",
    "Engineering",
    "Editorial",
    "Research",
    "Operations",
    "Brand",
    "Platform",
    "Localization",
    "Support",
    "Data",
    "Security",
    "Growth",
]
TOPIC_WORDS = _words(
    """
Frontend Backend Typography Accessibility Performance Infrastructure Design Process Content
Research Security Localization Tooling Testing Hosting Analytics Writing Branding Motion Color
"""
)
CODE_WORDS = [
    "Cache-Control",
    "srcset",
    "aria-label",
    "prefers-color-scheme",
    ":has()",
    "loading=lazy",
    "font-display",
    "ETag",
    "rel=preload",
    "<details>",
    "fetchpriority",
    "git bisect",
]
# The "topics" taxonomy (taxonomy=True): (uid, English name, French name, children); each child
# has the QUALIFIERS below it. Root uids are none of TOPIC_WORDS (category slugs under /topics/).
TAXONOMY_UID = "topics"
TAXONOMY_ROOTS = [
    (
        "craft",
        "Craft",
        "Savoir-faire",
        [
            ("Typesetting", "Composition"),
            ("Illustration", "Illustration"),
            ("Layout systems", "Systèmes de mise en page"),
            ("Colour theory", "Théorie des couleurs"),
        ],
    ),
    (
        "engineering",
        "Engineering",
        "Ingénierie",
        [
            ("Web platform", "Plateforme web"),
            ("Build tooling", "Outillage de build"),
            ("Hosting", "Hébergement"),
            ("Observability", "Observabilité"),
        ],
    ),
    (
        "people",
        "People",
        "Personnes",
        [
            ("Hiring", "Recrutement"),
            ("Mentoring", "Mentorat"),
            ("Remote work", "Travail à distance"),
            ("Wellbeing", "Bien-être"),
        ],
    ),
    (
        "publishing",
        "Publishing",
        "Édition",
        [
            ("Editorial workflow", "Flux éditorial"),
            ("Translation", "Traduction"),
            ("Archives", "Archives"),
            ("Newsletters", "Lettres d'information"),
        ],
    ),
    (
        "product",
        "Product",
        "Produit",
        [
            ("Discovery", "Exploration"),
            ("Roadmaps", "Feuilles de route"),
            ("Pricing", "Tarification"),
            ("Onboarding", "Accueil des utilisateurs"),
        ],
    ),
    (
        "studio",
        "Studio life",
        "Vie du studio",
        [
            ("Events", "Événements"),
            ("Clients", "Clients"),
            ("Open source", "Logiciel libre"),
            ("Retrospectives", "Rétrospectives"),
        ],
    ),
]
QUALIFIERS = [
    ("basics", "basics", "les bases"),
    ("practice", "in practice", "en pratique"),
    ("scale", "at scale", "à grande échelle"),
]
LEAF_TAG_SHARE = 0.8  # of a post's tags, the rest are mid-level terms
COLOURS = ["#0f766e", "#b45309", "#be123c", "#1d4ed8", "#4d7c0f", "#7c3aed", "#0e7490", "#a16207"]


@dataclass
class SynthSite:
    """A generated site folder and the handles a benchmark needs to change its content."""

    root: Path
    seed: int
    locales: list[str]
    counts: dict[str, int]  # master-locale entries per content type
    localized: dict[str, int]  # entries localized per non-master locale
    posts: list[str]  # post uids, oldest first
    localized_posts: dict[str, set[str]]  # locale -> post uids localized there
    popular_author: str
    popular_author_posts: int
    files: int
    bytes: int
    seconds: float
    # taxonomy=True: term uid -> parent term uid (None for a root), in tree order; else empty
    terms: dict[str, str | None] = field(default_factory=dict)
    _uid_types: dict[str, str] = field(default_factory=dict, repr=False)
    _edits: int = field(default=0, repr=False)

    @property
    def stack(self) -> Path:
        return self.root / "stack"

    @property
    def entries(self) -> int:
        return sum(self.counts.values())

    @property
    def popular_author_post_uids(self) -> list[str]:
        """The posts the popular author wrote (every POPULAR_AUTHOR_EVERY-th, oldest first)."""
        return self.posts[::POPULAR_AUTHOR_EVERY]

    def entry_file(self, uid: str, locale: str = MASTER_LOCALE) -> Path:
        content_type = self._uid_types.get(uid)
        if content_type is None:
            raise KeyError(f"no entry {uid!r} in {self.stack}")
        return self.stack / "entries" / content_type / f"{uid}.{locale}.json"

    def entry(self, uid: str, locale: str = MASTER_LOCALE) -> dict[str, Any]:
        return json.loads(self.entry_file(uid, locale).read_text(encoding="utf-8"))

    def pick_post(self, *, localized: bool = False, position: float = 0.5) -> str:
        """A post about ``position`` of the way from the oldest to the newest (not among the
        home page's newest), localized in every further locale or in none of them."""
        others = self.locales[1:]
        start = min(int(len(self.posts) * position), len(self.posts) - HOME_LATEST - 1)
        for uid in [*self.posts[start:], *reversed(self.posts[:start])]:
            in_all = all(uid in self.localized_posts[loc] for loc in others)
            in_none = not any(uid in self.localized_posts[loc] for loc in others)
            if (localized and others and in_all) or (not localized and in_none):
                return uid
        raise LookupError(f"no {'localized' if localized else 'unlocalized'} post")

    def edit_entry(self, uid: str, locale: str = MASTER_LOCALE) -> str:
        """Change an entry's title (and append a paragraph to a JSON-RTE body) in one locale,
        as an editor saving it would; returns the new title. The entry must be localized in
        ``locale`` (in other locales it falls back and changes with the master)."""
        file = self.entry_file(uid, locale)
        if not file.is_file():
            raise FileNotFoundError(f"{uid} is not localized in {locale}: {file} does not exist")
        self._edits += 1
        data = json.loads(file.read_text(encoding="utf-8"))
        data["title"] = f"{_strip_edit(data['title'])} (revised {self._edits})"
        body = data.get("body")
        if isinstance(body, dict) and body.get("type") == "doc":
            body["children"].append(
                {
                    "type": "p",
                    "uid": f"edit{self._edits:028x}",
                    "attrs": {},
                    "children": [{"text": f"Update {self._edits}: this post was revised."}],
                }
            )
        data["updated_at"] = _iso(EDIT_DATE + timedelta(minutes=self._edits))
        _write_json(file, data)
        return data["title"]

    @property
    def taxonomy(self) -> bool:
        """Whether the site has the ``topics`` taxonomy, its tags and term pages."""
        return bool(self.terms)

    @property
    def leaf_terms(self) -> list[str]:
        """The terms with no term below them, in tree order."""
        parents = set(self.terms.values())
        return [term for term in self.terms if term not in parents]

    def term_ancestors(self, term: str) -> list[str]:
        """The terms above ``term``, nearest first."""
        found = []
        parent = self.terms[term]
        while parent is not None:
            found.append(parent)
            parent = self.terms[parent]
        return found

    def term_root(self, term: str) -> str:
        return ([term, *self.term_ancestors(term)])[-1]

    def post_terms(self, uid: str, locale: str = MASTER_LOCALE) -> list[str]:
        """The term uids a post is tagged with (taxonomy=True)."""
        tags = self.entry(uid, locale).get("taxonomies") or []
        return [tag["term_uid"] for tag in tags if tag.get("taxonomy_uid") == TAXONOMY_UID]

    def retag_post(self, uid: str) -> list[str]:
        """Tag a post with other terms, as an editor saving it would: as many leaf terms as it
        had tags, each under a root none of its old terms is under (so every old term and its
        ancestors lose the post and the new ones and theirs gain it), in every locale file of
        the post; returns the new term uids."""
        if not self.taxonomy:
            raise LookupError("the site was generated without taxonomy=True")
        if self._uid_types.get(uid) != "post":
            raise KeyError(f"{uid!r} is not a post")
        old = self.post_terms(uid)
        self._edits += 1
        rng = random.Random(f"{self.seed}:retag:{uid}:{self._edits}")
        old_roots = {self.term_root(term) for term in old}
        candidates = [t for t in self.leaf_terms if self.term_root(t) not in old_roots]
        new: list[str] = []
        for term in rng.sample(candidates, len(candidates)):
            if len(new) == max(1, len(old)):
                break
            if self.term_root(term) not in {self.term_root(t) for t in new}:
                new.append(term)
        for locale in self.locales:
            file = self.entry_file(uid, locale)
            if not file.is_file():
                continue  # not localized there: falls back to the master locale's tags
            data = json.loads(file.read_text(encoding="utf-8"))
            data["taxonomies"] = _tags(new)
            data["updated_at"] = _iso(EDIT_DATE + timedelta(minutes=self._edits))
            _write_moved(file, data)
        return new

    def rename_author(self, uid: str | None = None) -> str:
        """Give an author (by default the popular one) a new name; returns it."""
        uid = uid or self.popular_author
        if self._uid_types.get(uid) != "author":
            raise KeyError(f"{uid!r} is not an author")
        file = self.entry_file(uid)
        self._edits += 1
        data = json.loads(file.read_text(encoding="utf-8"))
        data["title"] = f"{_strip_edit(data['title'])} (renamed {self._edits})"
        data["updated_at"] = _iso(EDIT_DATE + timedelta(minutes=self._edits))
        _write_json(file, data)
        return data["title"]


def _tags(terms: list[str]) -> list[dict[str, str]]:
    """A taxonomy field's value: the post's terms of the ``topics`` taxonomy."""
    return [{"taxonomy_uid": TAXONOMY_UID, "term_uid": term} for term in terms]


def _write_moved(path: Path, data: Any) -> None:
    """Write a file whose mtime moves forward even within one clock tick (the local stack
    notices edits by size and mtime first, and a retagged file may keep its size)."""
    before = path.stat().st_mtime_ns
    _write_json(path, data)
    if path.stat().st_mtime_ns <= before:
        stamp = before + 1_000_000
        os.utime(path, ns=(stamp, stamp))


def _strip_edit(title: str) -> str:
    return re.sub(r" \((?:revised|renamed) \d+\)$", "", title)


# -- generation ------------------------------------------------------------------------------


def generate_site(
    root: Path,
    entries: int,
    locales: int = 2,
    *,
    seed: int = 1,
    fanout: int = 3,
    listings: bool = True,
    taxonomy: bool = False,
) -> SynthSite:
    """Write a site with ``entries`` entries in the master locale into ``root`` (which must
    not exist or be empty) and return its description.

    ``fanout``: the most categories a post references (1..fanout, weighted to the low end; the
    default 3 keeps the historical distribution 1, 1, 2, 2, 3). ``listings``: add a paginated
    ``[[pages]]`` listing of every post at /posts/ (20 a page) and a ``[[feeds]]`` Atom feed
    at /posts/feed.xml (20 newest, full JSON-RTE content) to sitegen.toml. ``taxonomy``: add
    the ``topics`` taxonomy, tag every post with 1-2 of its terms and add its term listing at
    /topics/{term}/ (see the module's description); off, the site is byte for byte what it was
    before the option existed.
    """
    if not 1 <= locales <= len(LOCALES):
        raise ValueError(f"locales must be between 1 and {len(LOCALES)}, got {locales}")
    if not 1 <= fanout <= 20:
        raise ValueError(f"fanout must be between 1 and 20, got {fanout}")
    if entries < 60:
        raise ValueError(f"entries must be at least 60, got {entries}")
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and is not empty")
    started = time.perf_counter()
    gen = _Generator(root, entries, [code for code, _, _ in LOCALES[:locales]], seed)
    gen.fanout, gen.with_listings, gen.with_taxonomy = fanout, listings, taxonomy
    gen.run()
    return SynthSite(
        root=root,
        seed=seed,
        locales=gen.locales,
        counts=gen.counts,
        localized=gen.localized,
        posts=gen.post_uids,
        localized_posts=gen.localized_posts,
        popular_author=gen.author_uids[0],
        popular_author_posts=gen.popular_posts,
        files=gen.files,
        bytes=gen.bytes,
        seconds=time.perf_counter() - started,
        terms={uid: parent for uid, parent, _, _ in gen.terms},
        _uid_types=gen.uid_types,
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _write_json(path: Path, data: Any, indent: int | None = None) -> int:
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    raw = text.encode("utf-8")
    path.write_bytes(raw)
    return len(raw)


class _Text:
    """Sentences in one locale's vocabulary, drawn from a fixed pool for speed."""

    def __init__(self, rng: random.Random, locale: str):
        words = {"en-us": EN_WORDS, "fr-fr": FR_WORDS, "de-de": DE_WORDS, "es-es": ES_WORDS}.get(
            locale
        )
        if words is None:
            syllables = SYLLABLES[locale]
            joiner = "" if locale == "ja-jp" else " "
            words = [
                "".join(rng.choices(syllables, k=rng.randint(1, 3)))
                for _ in range(300 if joiner else 200)
            ]
        else:
            joiner = " "
        end = "。" if locale == "ja-jp" else "."
        self.rng = rng
        self.joiner = joiner
        self.sentences = []
        for _ in range(1500):
            picked = rng.choices(words, k=rng.randint(6, 20))
            sentence = joiner.join(picked)
            self.sentences.append(sentence[0].upper() + sentence[1:] + end)
        self.words = words

    def sentence(self) -> str:
        return self.rng.choice(self.sentences)

    def some_sentences(self, n: int) -> list[str]:
        return self.rng.choices(self.sentences, k=n)

    def phrase(self, lo: int = 2, hi: int = 5) -> str:
        return self.joiner.join(self.rng.choices(self.words, k=self.rng.randint(lo, hi)))

    def paragraph(self, lo: int = 2, hi: int = 6) -> str:
        return self.joiner.join(self.some_sentences(self.rng.randint(lo, hi)))


class _Generator:
    def __init__(self, root: Path, entries: int, locales: list[str], seed: int):
        self.root = root
        self.stack = root / "stack"
        self.total = entries
        self.locales = locales
        self.seed = seed
        self.rng = random.Random(seed)
        self.text = {loc: _Text(random.Random(f"{seed}:{loc}"), loc) for loc in locales}
        self.files = 0
        self.bytes = 0
        self.counts: dict[str, int] = {}
        self.localized: dict[str, int] = {loc: 0 for loc in locales[1:]}
        self.localized_posts: dict[str, set[str]] = {loc: set() for loc in locales[1:]}
        self.uid_types: dict[str, str] = {}
        self.made_dirs: set[Path] = set()
        self.popular_posts = 0
        self.fanout = 3
        self.with_listings = True
        self.with_taxonomy = False
        # Tags come from their own generator: drawing them from self.rng would change the rest
        # of the site between taxonomy=True and taxonomy=False.
        self.tag_rng = random.Random(seed + 1000)
        self.terms: list[tuple[str, str | None, str, str]] = []  # uid, parent, en name, fr name
        self.leaf_terms: list[str] = []
        self.mid_terms: list[str] = []

        # Sizes: everything besides posts, then posts fill up to `entries`.
        self.n_teams = min(len(TEAM_NAMES), max(3, entries // 1000))
        self.n_authors = max(3, round(entries * 0.01))
        self.n_categories = max(4, round(entries * 0.005))
        self.n_posts = entries - self.n_teams - self.n_authors - self.n_categories - len(PAGES) - 2
        self.team_uids = [self.uid() for _ in range(self.n_teams)]
        self.author_uids = [self.uid() for _ in range(self.n_authors)]
        self.category_uids = [self.uid() for _ in range(self.n_categories)]
        self.post_uids = [self.uid() for _ in range(self.n_posts)]
        self.page_uids = [self.uid() for _ in PAGES]
        self.post_urls: list[str] = []
        self.post_titles: list[str] = []
        self.author_names: list[str] = []
        self.assets: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------

    def uid(self) -> str:
        return f"blt{self.rng.getrandbits(64):016x}"

    def node_uid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def write(self, rel: str, data: Any, indent: int | None = None) -> None:
        path = self.stack / rel
        if path.parent not in self.made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made_dirs.add(path.parent)
        self.bytes += _write_json(path, data, indent)
        self.files += 1

    def write_text(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = text.encode("utf-8")
        path.write_bytes(raw)
        self.bytes += len(raw)
        self.files += 1

    def entry(self, content_type: str, uid: str, locale: str, data: dict[str, Any]) -> None:
        self.uid_types[uid] = content_type
        self.write(f"entries/{content_type}/{uid}.{locale}.json", data)
        if locale == self.locales[0]:
            self.counts[content_type] = self.counts.get(content_type, 0) + 1
        else:
            self.localized[locale] += 1

    def ref(self, content_type: str, uid: str) -> dict[str, str]:
        return {"uid": uid, "_content_type_uid": content_type}

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_stack_json()
        self.write_content_types()
        if self.with_taxonomy:
            self.write_taxonomy()
        self.write_assets()
        self.write_teams()
        self.write_authors()
        self.write_categories()
        self.write_posts()
        self.write_pages()
        self.write_home_and_chrome()
        self.write_site_files()

    def write_stack_json(self) -> None:
        by_code = {code: name for code, name, _ in LOCALES}
        locales: list[dict[str, str]] = [
            {"code": self.locales[0], "name": by_code[self.locales[0]]}
        ]
        for code in self.locales[1:]:
            locales.append(
                {"code": code, "name": by_code[code], "fallback_locale": self.locales[0]}
            )
        self.write(
            "stack.json",
            {
                "name": f"Synthetic journal ({self.total} entries)",
                "environments": ["production"],
                "locales": locales,
            },
            indent=2,
        )

    def write_content_types(self) -> None:
        for uid, title, schema, options in _content_types(self.with_taxonomy):
            self.write(
                f"content_types/{uid}.json",
                {"uid": uid, "title": title, "schema": schema, "options": options},
                indent=2,
            )

    def write_taxonomy(self) -> None:
        """stack/taxonomies/topics.json: 3 levels, about half the terms named in each further
        locale (French names in fr-fr, the English one marked with the locale elsewhere)."""
        terms = self.terms
        for root, en, fr, children in TAXONOMY_ROOTS:
            terms.append((root, None, en, fr))
            for child_en, child_fr in children:
                child = f"{root}-{_slug(child_en)}"
                terms.append((child, root, child_en, child_fr))
                for key, q_en, q_fr in QUALIFIERS:
                    terms.append(
                        (f"{child}-{key}", child, f"{child_en}: {q_en}", f"{child_fr} : {q_fr}")
                    )
        clash = {uid for uid, *_ in terms} & {_slug(word) for word in TOPIC_WORDS}
        if clash:  # category pages share /topics/
            raise AssertionError(f"term uids that are category slugs: {sorted(clash)}")
        others = self.locales[1:]
        nodes: dict[str, dict[str, Any]] = {}
        roots: list[dict[str, Any]] = []
        for i, (uid, parent, en, fr) in enumerate(terms):
            node: dict[str, Any] = {"uid": uid, "name": en}
            if others and i % 2 == 0:  # about half the terms are named in the other locales
                node["names"] = {loc: fr if loc == "fr-fr" else f"{en} [{loc}]" for loc in others}
            nodes[uid] = node
            if parent is None:
                roots.append(node)
            else:
                nodes[parent].setdefault("terms", []).append(node)
        self.leaf_terms = [uid for uid, *_ in terms if "terms" not in nodes[uid]]
        self.mid_terms = [uid for uid, parent, *_ in terms if parent and "terms" in nodes[uid]]
        data: dict[str, Any] = {
            "name": "Topics",
            "description": "What a post is about, from broad to narrow",
        }
        if others:
            data["names"] = {
                loc: "Sujets" if loc == "fr-fr" else f"Topics [{loc}]" for loc in others
            }
        data["terms"] = roots
        self.write(f"taxonomies/{TAXONOMY_UID}.json", data, indent=2)

    def post_tags(self) -> list[str]:
        """1-2 distinct terms for a post, mostly leaves (from self.tag_rng only)."""
        rng = self.tag_rng
        wanted = rng.choice((1, 1, 2))
        tags: list[str] = []
        while len(tags) < wanted:
            pool = self.leaf_terms if rng.random() < LEAF_TAG_SHARE else self.mid_terms
            term = rng.choice(pool)
            if term not in tags:
                tags.append(term)
        return tags

    def write_assets(self) -> None:
        kinds = [("logo", 1), ("avatar", 15), ("cover", 16), ("diagram", ASSET_COUNT - 32)]
        for kind, n in kinds:
            for i in range(n):
                uid = f"{kind}-{i + 1:02d}" if kind != "logo" else "logo"
                filename = f"{uid}.svg"
                title = f"{kind.title()} {i + 1}" if kind != "logo" else "Journal mark"
                svg = _svg(self.rng, kind, title)
                folder = self.stack / "assets" / uid
                self.write_text(folder / filename, svg)
                meta = {
                    "title": title,
                    "filename": filename,
                    "content_type": "image/svg+xml",
                    "description": f"Synthetic {kind} illustration",
                    "file_size": len(svg.encode("utf-8")),
                }
                self.write(f"assets/{uid}.json", meta, indent=2)
                self.assets.append({"uid": uid, "kind": kind, **meta})
        self.avatars = [a for a in self.assets if a["kind"] == "avatar"]
        self.covers = [a for a in self.assets if a["kind"] == "cover"]
        self.diagrams = [a for a in self.assets if a["kind"] == "diagram"]

    def write_teams(self) -> None:
        master = self.locales[0]
        for i, uid in enumerate(self.team_uids):
            name = TEAM_NAMES[i]
            self.entry(
                "team",
                uid,
                master,
                {
                    "title": name,
                    "description": self.text[master].sentence(),
                    "created_at": _iso(FIRST_POST_DATE - timedelta(days=30)),
                    "updated_at": _iso(FIRST_POST_DATE - timedelta(days=30)),
                },
            )

    def write_authors(self) -> None:
        master = self.locales[0]
        used: set[str] = set()
        for i, uid in enumerate(self.author_uids):
            name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}"
            if name in used:
                name = f"{name} {i // (len(FIRST_NAMES) * len(LAST_NAMES)) + 2}"
            while name in used:
                name += "I"
            used.add(name)
            self.author_names.append(name)
            joined = FIRST_POST_DATE + timedelta(days=self.rng.randint(-60, POST_SPAN_DAYS // 2))
            self.entry(
                "author",
                uid,
                master,
                {
                    "title": name,
                    "url": f"/authors/{_slug(name)}/",
                    "role": ROLES[i % len(ROLES)],
                    "bio": self.text[master].paragraph(2, 3),
                    "photo": self.avatars[i % len(self.avatars)]["uid"],
                    "team": [self.ref("team", self.team_uids[i % self.n_teams])],
                    "created_at": _iso(joined),
                    "updated_at": _iso(joined),
                },
            )

    def write_categories(self) -> None:
        n_top = max(2, self.n_categories // 5)
        self.top_categories = self.category_uids[:n_top]
        self.child_categories = self.category_uids[n_top:]
        titles = []
        for i in range(self.n_categories):
            word = TOPIC_WORDS[i % len(TOPIC_WORDS)]
            titles.append(word if i < len(TOPIC_WORDS) else f"{word} {i // len(TOPIC_WORDS) + 1}")
        for locale in self.locales:
            text = self.text[locale]
            for i, uid in enumerate(self.category_uids):
                data: dict[str, Any] = {
                    "title": titles[i] if locale == self.locales[0] else f"{titles[i]} ({locale})",
                    "url": f"/topics/{_slug(titles[i])}/",
                    "description": text.sentence(),
                    "accent": COLOURS[i % len(COLOURS)],
                    "created_at": _iso(FIRST_POST_DATE - timedelta(days=10)),
                    "updated_at": _iso(FIRST_POST_DATE - timedelta(days=10)),
                }
                if i >= n_top:
                    data["parent"] = [self.ref("category", self.top_categories[i % n_top])]
                self.entry("category", uid, locale, data)

    def post_title(self) -> str:
        rng = self.rng
        adj, adj2 = rng.sample(TITLE_ADJECTIVES, 2)
        noun, noun2 = rng.sample(TITLE_NOUNS, 2)
        return rng.choice(TITLE_PATTERNS).format(
            Adj=adj, adj=adj.lower(), adj2=adj2.lower(), noun=noun, noun2=noun2
        )

    def write_posts(self) -> None:
        rng = self.rng
        master = self.locales[0]
        others = self.locales[1:]
        slugs: set[str] = set()
        step = POST_SPAN_DAYS * 86400 / max(1, self.n_posts)
        other_authors = self.author_uids[1:]
        weights = [1.0 + rng.random() * 2 for _ in other_authors]
        for i, uid in enumerate(self.post_uids):
            title = self.post_title()
            date = FIRST_POST_DATE + timedelta(seconds=int(i * step + rng.random() * step * 0.5))
            slug = _slug(title)
            base, n = slug, 2
            while f"{date.year}/{slug}" in slugs:
                slug, n = f"{base}-{n}", n + 1
            slugs.add(f"{date.year}/{slug}")
            url = f"/blog/{date.year}/{slug}/"
            self.post_urls.append(url)
            self.post_titles.append(title)
            if i % POPULAR_AUTHOR_EVERY == 0:
                author = self.author_uids[0]
                self.popular_posts += 1
            else:
                author = rng.choices(other_authors, weights)[0]
            pool = self.child_categories or self.top_categories
            categories = rng.sample(pool, min(len(pool), self.category_count()))
            cover = rng.choice(self.covers)["uid"] if rng.random() < 0.6 else None
            size = int(rng.triangular(1800, 8500, 3000))  # compact JSON: ~2-10 KB
            embeds = self.post_embeds(i)
            localized_in = [loc for loc in others if rng.random() < LOCALIZED_POST_SHARE]
            tags = self.post_tags() if self.with_taxonomy else None
            for locale in [master, *localized_in]:
                text = self.text[locale]
                data: dict[str, Any] = {
                    "title": title if locale == master else f"{title} [{locale}]",
                    "url": url,
                    "date": _iso(date),
                    "excerpt": text.sentence(),
                    "author": [self.ref("author", author)],
                    "categories": [self.ref("category", c) for c in categories],
                    "body": self.rte_body(text, size, embeds, locale),
                    "notes": self.notes(text),
                    "created_at": _iso(date),
                    "updated_at": _iso(date + timedelta(hours=rng.randint(1, 72))),
                }
                if cover:
                    data["cover"] = cover
                if tags is not None:
                    data["taxonomies"] = _tags(tags)
                self.entry("post", uid, locale, data)
                if locale != master:
                    self.localized_posts[locale].add(uid)

    def category_count(self) -> int:
        if self.fanout == 3:  # the original distribution: same seed, same site as before
            return self.rng.choice((1, 1, 2, 2, 3))
        return min(self.rng.randint(1, self.fanout), self.rng.randint(1, self.fanout))

    def post_embeds(self, i: int) -> list[dict[str, Any]]:
        """Reference nodes for a post's body: assets, links to older posts, author blocks."""
        rng = self.rng
        nodes: list[dict[str, Any]] = []
        if rng.random() < 0.25:
            asset = rng.choice(self.diagrams)
            nodes.append(
                {
                    "type": "reference",
                    "attrs": {
                        "type": "asset",
                        "display-type": "display",
                        "asset-uid": asset["uid"],
                        "asset-link": f"/assets/{asset['uid']}/{asset['filename']}",
                        "asset-name": asset["filename"],
                        "asset-type": asset["content_type"],
                        "content-type-uid": "sys_assets",
                        "alt": asset["title"],
                        "class-name": "embedded-asset",
                    },
                    "children": [{"text": ""}],
                }
            )
        if i > 0 and rng.random() < 0.15:
            j = rng.randrange(0, i)
            nodes.append(
                {
                    "type": "p",
                    "attrs": {},
                    "children": [
                        {"text": "This builds on an earlier post, "},
                        {
                            "type": "reference",
                            "attrs": {
                                "type": "entry",
                                "display-type": "link",
                                "entry-uid": self.post_uids[j],
                                "content-type-uid": "post",
                                "locale": self.locales[0],
                                "class-name": "embedded-entry",
                                "href": self.post_urls[j],
                                "target": "_self",
                            },
                            "children": [{"text": self.post_titles[j]}],
                        },
                        {"text": "."},
                    ],
                }
            )
        if rng.random() < 0.03:
            k = rng.randrange(len(self.author_uids))
            nodes.append(
                {
                    "type": "reference",
                    "attrs": {
                        "type": "entry",
                        "display-type": "block",
                        "entry-uid": self.author_uids[k],
                        "content-type-uid": "author",
                        "locale": self.locales[0],
                        "class-name": "embedded-entry",
                    },
                    "children": [{"text": ""}],
                }
            )
        return nodes

    def inline(self, text: _Text, n_sentences: int) -> list[dict[str, Any]]:
        """A paragraph's leaves: plain text with some marks, inline code and links."""
        rng = self.rng
        leaves: list[dict[str, Any]] = []
        plain: list[str] = []
        for sentence in text.some_sentences(n_sentences):
            roll = rng.random()
            if roll < 0.75:
                plain.append(sentence)
                continue
            if plain:
                leaves.append({"text": " ".join(plain) + " "})
                plain = []
            if roll < 0.83:
                leaves.append({"text": sentence, rng.choice(("bold", "italic")): True})
                leaves.append({"text": " "})
            elif roll < 0.9:
                leaves.append({"text": rng.choice(CODE_WORDS), "inlineCode": True})
                leaves.append({"text": " " + sentence + " "})
            else:
                leaves.append(
                    {
                        "type": "a",
                        "uid": self.node_uid(),
                        "attrs": {
                            "url": f"https://example.org/{_slug(text.phrase(1, 3)) or 'ref'}",
                            "target": "_blank",
                        },
                        "children": [{"text": sentence}],
                    }
                )
                leaves.append({"text": " "})
        if plain:
            leaves.append({"text": " ".join(plain)})
        return leaves or [{"text": ""}]

    def rte_body(
        self, text: _Text, size: int, embeds: list[dict[str, Any]], locale: str
    ) -> dict[str, Any]:
        """A JSON-RTE document of about ``size`` bytes (compact JSON)."""
        rng = self.rng
        nid = self.node_uid
        children: list[dict[str, Any]] = []
        estimate = 0

        def add(node: dict[str, Any], cost: int) -> None:
            nonlocal estimate
            node.setdefault("uid", nid())
            children.append(node)
            estimate += cost

        def para() -> None:
            leaves = self.inline(text, rng.randint(2, 6))
            add(
                {"type": "p", "uid": nid(), "attrs": {}, "children": leaves},
                75 + sum(_leaf_size(leaf) for leaf in leaves),
            )

        para()
        pending = list(embeds)
        while estimate < size:
            heading = text.phrase(2, 6)
            add(
                {
                    "type": rng.choice(("h2", "h2", "h3")),
                    "uid": nid(),
                    "attrs": {},
                    "children": [{"text": heading[0].upper() + heading[1:]}],
                },
                80 + len(heading),
            )
            for _ in range(rng.randint(1, 4)):
                if estimate >= size:
                    break
                para()
            roll = rng.random()
            if estimate >= size:
                pass
            elif roll < 0.3:
                kind = rng.choice(("ul", "ol"))
                items = [
                    {
                        "type": "li",
                        "uid": nid(),
                        "attrs": {},
                        "children": [{"text": text.phrase(3, 9)}],
                    }
                    for _ in range(rng.randint(3, 6))
                ]
                add(
                    {"type": kind, "uid": nid(), "attrs": {}, "children": items},
                    70 + sum(100 + len(li["children"][0]["text"]) for li in items),
                )
            elif roll < 0.4:
                quote = text.sentence()
                add(
                    {
                        "type": "blockquote",
                        "uid": nid(),
                        "attrs": {},
                        "children": [{"text": quote}],
                    },
                    90 + len(quote),
                )
            if pending and rng.random() < 0.5:
                node = pending.pop(0)
                add(_with_uids(node, nid), 450)
        for node in pending:
            add(_with_uids(node, nid), 400)
        return {"type": "doc", "uid": nid(), "attrs": {}, "children": children}

    def notes(self, text: _Text) -> str:
        rng = self.rng
        lines = [f"**{text.phrase(1, 3).capitalize()}**", ""]
        for _ in range(rng.randint(2, 4)):
            lines.append(
                f"- [{text.phrase(2, 4)}](https://example.org/{_slug(text.phrase(1, 2)) or 'x'})"
                f": {text.sentence()}"
            )
        if rng.random() < 0.3:
            lines += ["", "| metric | before | after |", "| --- | ---: | ---: |"]
            for _ in range(3):
                lines.append(
                    f"| {text.phrase(1, 2)} | {rng.randint(10, 900)} | {rng.randint(10, 900)} |"
                )
        lines += ["", f"_{text.sentence()}_"]
        return "\n".join(lines) + "\n"

    def html_body(self, text: _Text) -> str:
        rng = self.rng
        parts = [f"<p>{text.paragraph()}</p>"]
        for _ in range(rng.randint(3, 6)):
            parts.append(f"<h2>{text.phrase(2, 5).capitalize()}</h2>")
            parts.append(f"<p>{text.paragraph()}</p>")
            if rng.random() < 0.6:
                asset = rng.choice(self.diagrams)
                parts.append(
                    f'<figure class="embedded-asset" type="asset" data-sys-asset-uid="{asset["uid"]}"'
                    f' data-sys-asset-filelink="/assets/{asset["uid"]}/{asset["filename"]}"'
                    f' data-sys-asset-filename="{asset["filename"]}"'
                    f' data-sys-asset-contenttype="{asset["content_type"]}"'
                    f' data-sys-asset-alt="{asset["title"]}"'
                    f' data-sys-asset-caption="{text.phrase(3, 6)}" sys-style-type="display">'
                    "</figure>"
                )
            if rng.random() < 0.4:
                items = "".join(f"<li>{text.phrase(3, 8)}</li>" for _ in range(rng.randint(3, 5)))
                parts.append(f"<ul>{items}</ul>")
        return "\n".join(parts)

    def write_pages(self) -> None:
        for locale in self.locales:
            text = self.text[locale]
            for (slug, title), uid in zip(PAGES, self.page_uids, strict=True):
                self.entry(
                    "page",
                    uid,
                    locale,
                    {
                        "title": title if locale == self.locales[0] else f"{title} [{locale}]",
                        "url": f"/{slug}/",
                        "summary": text.sentence(),
                        "body_html": self.html_body(text),
                        "created_at": _iso(FIRST_POST_DATE - timedelta(days=20)),
                        "updated_at": _iso(FIRST_POST_DATE - timedelta(days=20)),
                    },
                )

    def write_home_and_chrome(self) -> None:
        home_uid, chrome_uid = self.uid(), self.uid()
        nav = [
            ("Topics", "category", self.top_categories[0]),
            ("About", "page", self.page_uids[0]),
            ("Contact", "page", self.page_uids[1]),
        ]
        footer = [
            (title, "page", uid) for (_, title), uid in zip(PAGES, self.page_uids, strict=True)
        ]
        for locale in self.locales:
            text = self.text[locale]
            tag = "" if locale == self.locales[0] else f" [{locale}]"
            self.entry(
                "home",
                home_uid,
                locale,
                {
                    "title": f"Home{tag}",
                    "url": "/",
                    "intro": self.rte_body(text, 800, [], locale),
                    "created_at": _iso(FIRST_POST_DATE),
                    "updated_at": _iso(FIRST_POST_DATE),
                },
            )
            self.entry(
                "site_chrome",
                chrome_uid,
                locale,
                {
                    "title": f"Site chrome{tag}",
                    "tagline": text.sentence(),
                    "logo": "logo",
                    "navigation": [
                        {"label": f"{label}{tag}", "link": [self.ref(ct, uid)]}
                        for label, ct, uid in nav
                    ],
                    "footer_links": [
                        {"label": f"{label}{tag}", "link": [self.ref(ct, uid)]}
                        for label, ct, uid in footer
                    ],
                    "footer_text": text.sentence(),
                    "copyright": "© Synthetic Journal",
                    "created_at": _iso(FIRST_POST_DATE),
                    "updated_at": _iso(FIRST_POST_DATE),
                },
            )

    def write_site_files(self) -> None:
        lines = [
            f"# A synthetic site: {self.total} entries, {len(self.locales)} locale(s), "
            "generated by benchmarks/synth.py.",
            "",
            "[stack]",
            'local = "stack"',
            'environment = "production"',
            "include_depth = 2            # post -> author -> team, post -> category -> parent",
            "",
            "[site]",
            'title = "Synthetic Journal"',
            'base_url = "https://synth.example.com"',
            "locales = [" + ", ".join(f'"{code}"' for code in self.locales) + "]",
            "",
        ]
        for code, name, prefix in LOCALES:
            if code in self.locales:
                lines += [f"[locales.{code}]", f'name = "{name}"']
                if code != self.locales[0]:
                    lines.append(f'prefix = "{prefix}"')
                lines.append("")
        if self.with_listings:
            lines += LISTINGS_TOML
        if self.with_taxonomy:
            lines += TERMS_TOML
        self.write_text(self.root / "sitegen.toml", "\n".join(lines))
        for name, text in TEMPLATES.items():
            if name in LISTING_TEMPLATES and not self.with_listings:
                continue
            self.write_text(self.root / "templates" / name, text)
        if self.with_taxonomy:
            for name, text in TAXONOMY_TEMPLATES.items():
                self.write_text(self.root / "templates" / name, text)
        self.write_text(self.root / "static" / "css" / "site.css", CSS)
        marker = {"generator": "benchmarks/synth.py", "entries": self.total}
        marker |= {"locales": self.locales, "seed": self.seed, "fanout": self.fanout}
        marker |= {"listings": self.with_listings}
        if self.with_taxonomy:
            marker |= {"taxonomy": True}
        self.write_text(self.root / MARKER, json.dumps(marker) + "\n")


def _leaf_size(leaf: dict[str, Any]) -> int:
    """About the compact JSON size of a paragraph child."""
    if "type" in leaf:  # a link
        return 120 + len(leaf["attrs"]["url"]) + len(leaf["children"][0]["text"])
    return 12 + len(leaf["text"]) + (14 if len(leaf) > 1 else 0)


def _with_uids(node: dict[str, Any], nid) -> dict[str, Any]:
    """A copy of a node with fresh uids on it and its element children."""
    copy = {"type": node["type"], "uid": nid(), "attrs": node["attrs"], "children": []}
    for child in node["children"]:
        copy["children"].append(_with_uids(child, nid) if "type" in child else dict(child))
    return copy


def _svg(rng: random.Random, kind: str, title: str) -> str:
    width, height = {"avatar": (96, 96), "logo": (64, 64)}.get(kind, (800, 450))
    fill, accent = rng.sample(COLOURS, 2)
    shapes = []
    for _ in range(rng.randint(3, 8)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(4, max(5, min(width, height) // 4))
        shapes.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{accent}" fill-opacity=".6"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{title}">'
        f'<rect width="{width}" height="{height}" fill="{fill}"/>' + "".join(shapes) + "</svg>\n"
    )


# -- the content model -----------------------------------------------------------------------


def _text(uid: str, name: str, **meta: Any) -> dict[str, Any]:
    field_def: dict[str, Any] = {"uid": uid, "data_type": "text", "display_name": name}
    if meta:
        field_def["field_metadata"] = meta
    return field_def


def _reference(uid: str, name: str, targets: list[str], multiple: bool = False) -> dict[str, Any]:
    return {
        "uid": uid,
        "data_type": "reference",
        "display_name": name,
        "reference_to": targets,
        "multiple": multiple,
        "field_metadata": {"ref_multiple": multiple},
    }


def _file(uid: str, name: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "data_type": "file",
        "display_name": name,
        "field_metadata": {"image": True},
    }


def _json_rte(uid: str, name: str, targets: list[str]) -> dict[str, Any]:
    return {
        "uid": uid,
        "data_type": "json",
        "display_name": name,
        "field_metadata": {
            "allow_json_rte": True,
            "rich_text_type": "advanced",
            "embed_entry": True,
        },
        "reference_to": targets,
    }


def _taxonomy_field() -> dict[str, Any]:
    return {
        "uid": "taxonomies",
        "data_type": "taxonomy",
        "display_name": "Topics",
        "taxonomies": [
            {
                "taxonomy_uid": TAXONOMY_UID,
                "max_terms": 5,
                "mandatory": False,
                "non_localizable": False,
            }
        ],
        "multiple": True,
        "mandatory": False,
        "non_localizable": False,
        "field_metadata": {"description": ""},
    }


def _content_types(
    taxonomy: bool = False,
) -> list[tuple[str, str, list[dict[str, Any]], dict[str, Any]]]:
    title = _text("title", "Title", _default=True)
    url = _text("url", "URL", _default=True)
    page_opts = {"is_page": True, "singleton": False, "title": "title"}
    return [
        (
            "team",
            "Team",
            [title, _text("description", "Description", multiline=True)],
            {"is_page": False, "singleton": False, "title": "title"},
        ),
        (
            "author",
            "Author",
            [
                _text("title", "Name", _default=True),
                url,
                _text("role", "Role"),
                _text("bio", "Bio", multiline=True),
                _file("photo", "Photo"),
                _reference("team", "Team", ["team"]),
            ],
            page_opts,
        ),
        (
            "category",
            "Category",
            [
                title,
                url,
                _text("description", "Description", multiline=True),
                _text("accent", "Accent colour"),
                _reference("parent", "Parent category", ["category"]),
            ],
            page_opts,
        ),
        (
            "post",
            "Post",
            [
                title,
                url,
                {"uid": "date", "data_type": "isodate", "display_name": "Date"},
                _text("excerpt", "Excerpt", multiline=True),
                _file("cover", "Cover image"),
                _reference("author", "Author", ["author"]),
                _reference("categories", "Categories", ["category"], multiple=True),
                _json_rte("body", "Body", ["post", "author", "sys_assets"]),
                _text("notes", "Notes", markdown=True),
                *([_taxonomy_field()] if taxonomy else []),
            ],
            page_opts,
        ),
        (
            "page",
            "Page",
            [
                title,
                url,
                _text("summary", "Summary", multiline=True),
                _text("body_html", "Body", allow_rich_text=True, rich_text_type="advanced"),
            ],
            page_opts,
        ),
        (
            "home",
            "Home",
            [title, url, _json_rte("intro", "Introduction", ["sys_assets"])],
            {"is_page": True, "singleton": True, "title": "title"},
        ),
        (
            "site_chrome",
            "Site chrome",
            [
                title,
                _text("tagline", "Tagline"),
                _file("logo", "Logo"),
                {
                    "uid": "navigation",
                    "data_type": "group",
                    "display_name": "Navigation",
                    "multiple": True,
                    "schema": [
                        _text("label", "Label"),
                        _reference("link", "Link", ["page", "category"]),
                    ],
                },
                {
                    "uid": "footer_links",
                    "data_type": "group",
                    "display_name": "Footer links",
                    "multiple": True,
                    "schema": [_text("label", "Label"), _reference("link", "Link", ["page"])],
                },
                _text("footer_text", "Footer text", multiline=True),
                _text("copyright", "Copyright"),
            ],
            {"is_page": False, "singleton": True, "title": "title"},
        ),
    ]


# -- templates -------------------------------------------------------------------------------

TEMPLATES = {
    "base.html": """\
{# The layout every page extends. #}
{% set chrome = entries("site_chrome") | first %}
{% set home = entries("home") | first %}
<!doctype html>
<html lang="{{ locale }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{{ entry.title }} · {{ site.title }}{% endblock %}</title>
  <link rel="canonical" href="{{ site.base_url }}{{ page.url }}">
  {% for l in site.locales %}
    {% set href = url_for(entry, l.code) %}
    {% if href %}
  <link rel="alternate" hreflang="{{ l.code }}" href="{{ site.base_url }}{{ href }}">
    {% endif %}
  {% endfor %}
  <link rel="stylesheet" href="{{ static_url('css/site.css') }}">
</head>
<body class="type-{{ entry._content_type_uid if entry is defined else 'listing' }}">
  <header class="site-header">
    <a class="brand" href="{{ url_for(home) if home else '/' }}">
      {% if chrome and chrome.logo %}<img src="{{ chrome.logo.url }}" alt="" width="32" height="32">{% endif %}
      {{ site.title }}
    </a>
    {% if chrome %}
    <nav aria-label="Main">
      <ul>
        {% for item in chrome.navigation or [] %}
          {% set href = url_for(item.link[0]) if item.link else none %}
          {% if href %}<li><a href="{{ href }}">{{ item.label }}</a></li>{% endif %}
        {% endfor %}
      </ul>
    </nav>
    {% endif %}
    <nav aria-label="Languages">
      {% for l in site.locales %}
        {% set href = url_for(entry, l.code) %}
        {% if href %}<a hreflang="{{ l.code }}" href="{{ href }}"{% if l.code == locale %} aria-current="true"{% endif %}>{{ l.name }}</a>{% endif %}
      {% endfor %}
    </nav>
  </header>
  <main id="main">
    {% if entry is defined and entry.locale and entry.locale != locale %}<p class="notice">Not translated yet.</p>{% endif %}
{% block content %}{% endblock %}
  </main>
  <footer class="site-footer">
    {% if chrome %}
    <p>{{ chrome.footer_text }}</p>
    <ul>
      {% for item in chrome.footer_links or [] %}
        {% set href = url_for(item.link[0]) if item.link else none %}
        {% if href %}<li><a href="{{ href }}">{{ item.label }}</a></li>{% endif %}
      {% endfor %}
    </ul>
    <p>{{ chrome.copyright }}</p>
    {% endif %}
  </footer>
</body>
</html>
""",
    "home.html": """\
{% extends "base.html" %}
{% block title %}{{ site.title }}{% endblock %}
{% block content %}
<h1>{{ site.title }}</h1>
<div class="intro">{{ entry.intro | rte }}</div>
<section aria-labelledby="latest">
  <h2 id="latest">Latest posts</h2>
  <ol class="post-list">
  {% for post in entries("post", sort="-date", limit=20) %}
    {% set author = post.author[0] if post.author else none %}
    <li>
      <a href="{{ url_for(post) }}">{{ post.title }}</a>
      <span class="meta">{{ post.date[:10] }}{% if author %} · {{ author.title }}{% endif %}</span>
      <p>{{ post.excerpt }}</p>
    </li>
  {% endfor %}
  </ol>
</section>
{% endblock %}
""",
    "post.html": """\
{% extends "base.html" %}
{% block content %}
{# Two levels of references: post -> author -> team, post -> category -> parent. #}
{% set author = entry.author[0] if entry.author else none %}
{% set team = author.team[0] if author and author.team else none %}
<article class="post">
  <header>
    <h1>{{ entry.title }}</h1>
    <p class="byline">
      {% if author %}By <a href="{{ url_for(author) }}" rel="author">{{ author.title }}</a>{% if team %}, {{ team.title }}{% endif %} · {% endif %}
      <time datetime="{{ entry.date }}">{{ entry.date[:10] }}</time>
    </p>
    {% if entry.categories %}
    <p class="topics">
      {% for cat in entry.categories %}
        {% set parent = cat.parent[0] if cat.parent else none %}
        <a class="chip" style="--accent: {{ cat.accent }}" href="{{ url_for(cat) }}">{% if parent %}{{ parent.title }} / {% endif %}{{ cat.title }}</a>
      {% endfor %}
    </p>
    {% endif %}
    <p class="lead">{{ entry.excerpt }}</p>
  </header>
  {% if entry.cover %}
  <img class="cover" src="{{ entry.cover.url }}" alt="" width="800" height="450">
  {% endif %}
  <div class="prose">
    {{ entry.body | rte }}
  </div>
  {% if entry.notes %}
  <aside class="notes">
    {{ entry.notes | markdown }}
  </aside>
  {% endif %}
</article>
{% endblock %}
""",
    "author.html": """\
{% extends "base.html" %}
{% block content %}
{% set team = entry.team[0] if entry.team else none %}
<header class="profile">
  {% if entry.photo %}<img src="{{ entry.photo.url }}" alt="" width="96" height="96">{% endif %}
  <h1>{{ entry.title }}</h1>
  <p class="lead">{{ entry.role }}{% if team %}, {{ team.title }}{% endif %}</p>
</header>
<p>{{ entry.bio }}</p>
{% if team %}<p class="meta">{{ team.description }}</p>{% endif %}
{% endblock %}
""",
    "category.html": """\
{% extends "base.html" %}
{% block content %}
{% set parent = entry.parent[0] if entry.parent else none %}
<header style="--accent: {{ entry.accent }}">
  {% if parent %}<p>Part of <a href="{{ url_for(parent) }}">{{ parent.title }}</a></p>{% endif %}
  <h1>{{ entry.title }}</h1>
  <p class="lead">{{ entry.description }}</p>
</header>
{% endblock %}
""",
    "page.html": """\
{% extends "base.html" %}
{% block content %}
<article class="page">
  <h1>{{ entry.title }}</h1>
  {% if entry.summary %}<p class="lead">{{ entry.summary }}</p>{% endif %}
  <div class="prose">
    {{ entry.body_html | rte }}
  </div>
</article>
{% endblock %}
""",
    "post_list.html": """\
{% extends "base.html" %}
{% block title %}{{ page.title }}{% if paginator.number > 1 %} ({{ paginator.number }}){% endif %} · {{ site.title }}{% endblock %}
{% block content %}
<h1>{{ page.title }}</h1>
<ol class="post-list">
{% for post in paginator.items %}
  {% set author = post.author[0] if post.author else none %}
  <li>
    <a href="{{ url_for(post) }}">{{ post.title }}</a>
    <span class="meta">{{ post.date[:10] }}{% if author %} · {{ author.title }}{% endif %}</span>
    <p>{{ post.excerpt }}</p>
  </li>
{% endfor %}
</ol>
<nav class="pager" aria-label="Pages">
  {% if paginator.has_previous %}<a rel="prev" href="{{ paginator.previous_url }}">Newer</a>{% endif %}
  <span>Page {{ paginator.number }} of {{ paginator.total_pages }}</span>
  {% if paginator.has_next %}<a rel="next" href="{{ paginator.next_url }}">Older</a>{% endif %}
</nav>
{% endblock %}
""",
    "embedded/author.html": """\
{# An author embedded in a post body as a block. #}
{% set href = url_for(item) %}
<aside class="embed embed-author">
  {% if item.photo and item.photo.url %}<img src="{{ item.photo.url }}" alt="" width="64" height="64">{% endif %}
  <p>{% if href %}<a href="{{ href }}">{{ item.title }}</a>{% else %}{{ item.title }}{% endif %}</p>
  <p class="meta">{{ item.role }}</p>
</aside>
""",
}

LISTING_TEMPLATES = {"post_list.html"}
LISTINGS_TOML = [
    "# every post, newest first, 20 a page: /posts/, /posts/page/2/, ... in every locale",
    "[[pages]]",
    'path = "/posts/"',
    'template = "post_list.html"',
    'title = "All posts"',
    'content_type = "post"',
    'sort = "-date"',
    "per_page = 20",
    "",
    "# an Atom feed of the 20 newest posts, with their bodies",
    "[[feeds]]",
    'path = "/posts/feed.xml"',
    'content_type = "post"',
    'sort = "-date"',
    'title = "Synthetic Journal"',
    "limit = 20",
    'summary = "excerpt"',
    'content = "body"',
    "",
]

# taxonomy=True: a page per term of the "topics" taxonomy in every locale
TAXONOMY_TEMPLATES = {
    "topic.html": """\
{% extends "base.html" %}
{% block title %}{{ term.label }}{% if paginator.number > 1 %} ({{ paginator.number }}){% endif %} · {{ site.title }}{% endblock %}
{% block content %}
{# A term of the "topics" taxonomy: the posts tagged with it or with a term below it. #}
<nav class="breadcrumb" aria-label="Topics">
  <ol>
    {% for up in term.ancestors %}
    <li><a href="{{ up.url }}">{{ up.label }}</a></li>
    {% endfor %}
    <li aria-current="page">{{ term.label }}</li>
  </ol>
</nav>
<h1>{{ term.label }}</h1>
<p class="meta">{{ term.count }} posts</p>
{% if term.children %}
<ul class="topics">
  {% for child in term.children %}
  <li><a class="chip" href="{{ child.url }}">{{ child.label }}</a> <span class="meta">{{ child.count }}</span></li>
  {% endfor %}
</ul>
{% endif %}
<ol class="post-list">
{% for post in paginator.items %}
  {% set author = post.author[0] if post.author else none %}
  <li>
    <a href="{{ url_for(post) }}">{{ post.title }}</a>
    <span class="meta">{{ post.date[:10] }}{% if author %} · {{ author.title }}{% endif %}</span>
    <p>{{ post.excerpt }}</p>
  </li>
{% endfor %}
</ol>
<nav class="pager" aria-label="Pages">
  {% if paginator.has_previous %}<a rel="prev" href="{{ paginator.previous_url }}">Newer</a>{% endif %}
  <span>Page {{ paginator.number }} of {{ paginator.total_pages }}</span>
  {% if paginator.has_next %}<a rel="next" href="{{ paginator.next_url }}">Older</a>{% endif %}
</nav>
{% endblock %}
""",
}
TERMS_TOML = [
    "# a page per term of the stack's topics taxonomy (stack/taxonomies/topics.json) in every",
    "# locale: the posts tagged with the term or a term below it, newest first, 20 a page",
    "[[pages]]",
    'path = "/topics/{term}/"',
    'template = "topic.html"',
    'content_type = "post"',
    'terms = "taxonomies.topics"',
    'name = "topics"',
    "per_page = 20",
    'sort = "-date"',
    "",
]

CSS = """\
:root { --ink: #1f2933; --accent: #0f766e; font-family: system-ui, sans-serif; color: var(--ink); }
body { max-width: 44rem; margin: 0 auto; padding: 1rem; line-height: 1.6; }
.site-header, .site-footer { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
nav ul { display: flex; gap: 1rem; list-style: none; padding: 0; }
.chip { border-left: 4px solid var(--accent); padding: 0 .4rem; }
.meta, .byline { color: #52606d; font-size: .9rem; }
.notice { background: #fef3c7; padding: .5rem; }
img { max-width: 100%; height: auto; }
"""


if __name__ == "__main__":  # python benchmarks/synth.py DIR [ENTRIES] [LOCALES]
    import sys

    if len(sys.argv) < 2:
        sys.exit("usage: python benchmarks/synth.py DIR [ENTRIES=1000] [LOCALES=2] [SEED=1]")
    target = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    n_locales = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    seed_arg = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    made = generate_site(target, count, n_locales, seed=seed_arg)
    print(
        f"{made.root}: {made.entries} entries {made.counts}, localized {made.localized}, "
        f"{made.files} files, {made.bytes / 1e6:.1f} MB in {made.seconds:.1f}s; "
        f"popular author {made.popular_author} ({made.popular_author_posts} posts)"
    )
