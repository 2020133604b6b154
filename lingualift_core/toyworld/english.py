"""The English side of the toy world: lexicon (lemmas, semantic classes, inflection) and the renderer.

Every lemma is a *concept* with a key (``"N:apple"``, ``"V:give"``, ``"A:red"`` ...). Frames (see
``frames.py``) refer to concepts by their English lemma; the English renderer inflects them (3rd person -s,
plurals, past tense, -ing, a/an) and the toy renderers look the same concepts up in their own lexicons.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADJECTIVES",
    "ADVERBS",
    "CONCEPTS",
    "Concept",
    "NAMES",
    "NOUNS",
    "VERBS",
    "Verb",
    "english_plural",
    "verb_forms",
]

# ------------------------------------------------------------------------------------------------- nouns
# class -> "lemma lemma:irregular-plural lemma* (mass noun, no plural)"; order within a class = frequency rank.
_NOUN_DATA: dict[str, str] = {
    "person": (
        "man:men woman:women boy girl child:children friend teacher student doctor farmer mother father "
        "brother sister baby neighbor driver cook baker king queen nurse pilot artist singer writer worker "
        "player soldier uncle aunt"
    ),
    "animal": "dog cat horse bird cow fish:fish sheep:sheep pig chicken duck rabbit mouse:mice lion bear "
    "wolf:wolves fox frog goat monkey snake",
    "food": "apple bread* cake egg banana orange pear cookie sandwich potato:potatoes tomato:tomatoes carrot "
    "lemon pie rice* soup* cheese* meat*",
    "drink": "water* milk* tea* coffee* juice*",
    "thing": (
        "book pen pencil letter box bag ball toy cup plate chair table bed door window key phone clock lamp "
        "hat shirt shoe coat picture card coin flower stone shell marble sticker ticket basket bottle "
        "knife:knives glass watch dress stamp gift piece"
    ),
    "vehicle": "car bike bus train boat truck",
    "place": (
        "house school park garden shop market library kitchen farm river forest city village beach street "
        "office hospital station lake mountain field room bridge road zoo town home work"
    ),
    "time": "morning evening night day week year end lunch dinner breakfast noon",
    "abstract": "song story game question answer lesson idea problem job money* music* homework* news*",
    "day": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
}

_IRREGULAR_PLURAL: dict[str, str] = {}


def english_plural(noun: str) -> str:
    """English plural of a noun lemma (irregular table first, then the spelling rules)."""
    irregular = _IRREGULAR_PLURAL.get(noun)
    if irregular is not None:
        return irregular
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


@dataclass(frozen=True)
class NounInfo:
    lemma: str
    cls: str
    mass: bool
    rank: int


def _parse_nouns() -> dict[str, NounInfo]:
    out: dict[str, NounInfo] = {}
    for cls, text in _NOUN_DATA.items():
        for rank, item in enumerate(text.split()):
            mass = item.endswith("*")
            item = item.rstrip("*")
            if ":" in item:
                item, plural = item.split(":")
                _IRREGULAR_PLURAL[item] = plural
            if item in out:
                raise ValueError(f"duplicate noun {item}")
            out[item] = NounInfo(item, cls, mass, rank)
    return out


NOUNS: dict[str, NounInfo] = _parse_nouns()

# Extra class memberships used for selection (a noun has one main class above).
CONTAINERS = ("cup", "glass", "bottle", "box", "bag", "basket", "plate", "piece")
OPENABLE = ("door", "window", "box", "bag", "book", "bottle", "letter", "shop")
BREAKABLE = ("cup", "glass", "plate", "window", "egg", "toy", "watch", "phone", "lamp", "clock", "bottle")
FRUIT = ("apple", "banana", "orange", "pear", "lemon", "tomato")
BAKED = ("cake", "cookie", "pie", "bread")
COLLECTIBLE = ("stone", "shell", "stamp", "card", "coin", "sticker", "marble", "flower")
READABLE = ("book", "letter", "story", "news")
WRITABLE = ("letter", "story", "book", "song")
BUILDABLE = ("house", "bridge", "road", "boat", "table", "chair")
PAINTABLE = ("picture", "house", "door", "room", "table", "chair", "car", "bike", "boat")
BARE_PLACES = ("school", "home", "work", "town")  # "at school", "to town" without a determiner
MEALS = ("lunch", "dinner", "breakfast")
DAYS = tuple(n for n, info in NOUNS.items() if info.cls == "day")

# ------------------------------------------------------------------------------------------------- verbs
# lemma past subject-classes frames; frames: i = intransitive, t:C1,C2 = transitive with object classes or
# named selection lists, d:... = give-type (object + "to" person), m = motion ("to" a place).
_VERB_DATA = """
have had pa t:animal,thing,food,vehicle,brother,sister,friend,baby,uncle,aunt
see saw pa t:person,animal,thing,vehicle,place
like liked pa t:food,drink,animal,person,thing,music
eat ate pa t:food,MEALS i
go went pa m
give gave p d:thing,food t:thing,food
buy bought p t:food,thing,vehicle,drink
read read p t:READABLE i
play played pa i t:game,music
want wanted pa t:food,drink,thing,vehicle
find found pa t:thing,food,animal
make made p t:BAKED,thing,MEALS
take took p t:thing,food,animal d:thing,food
walk walked pa i m
run ran pa i m
drink drank pa t:drink i
love loved pa t:person,animal,food,music,place
help helped p t:person,animal
visit visited p t:person,place
sleep slept pa i
work worked p i
write wrote p t:WRITABLE i
sing sang p i t:song
cook cooked p t:food,MEALS i
open opened p t:OPENABLE
close closed p t:OPENABLE
bring brought p d:thing,food t:thing,food,animal
sell sold p t:food,thing,vehicle,animal d:thing,food,vehicle
send sent p d:letter,card,picture,gift,book t:letter,card,gift
show showed p d:picture,book,card,gift,letter
watch watched p t:animal,person,game,bird
call called p t:person
meet met p t:person
know knew p t:person,answer,song,story
need needed pa t:thing,food,drink,money,help
carry carried pa t:thing,food,baby
hold held p t:thing,animal,baby
wash washed p t:thing,vehicle,FRUIT
clean cleaned p t:place,thing,vehicle
feed fed p t:animal,baby
catch caught pa t:ball,fish,mouse,bird,bus,train
throw threw p t:ball,stone
pick picked p t:flower,FRUIT
collect collected p t:COLLECTIBLE
count counted p t:coin,money,animal,COLLECTIBLE
hear heard pa t:music,song,news,person,bird
answer answered p t:question
ask asked p t:question,person
learn learned p t:song,lesson,game
teach taught p t:lesson,song,game
use used p t:thing,vehicle
keep kept p t:thing,animal,money
lose lost p t:thing,money,game
win won p t:game,money,COLLECTIBLE,prize
paint painted p t:PAINTABLE i
draw drew p t:picture,animal,house,flower,person i
build built p t:BUILDABLE
fix fixed p t:thing,vehicle,problem
break broke pa t:BREAKABLE
bake baked p t:BAKED
wait waited pa i
swim swam pa i
fly flew a i
laugh laughed p i
cry cried p i
dance danced p i
smile smiled p i
sit sat pa i
jump jumped pa i
rest rested pa i
study studied p i
shout shouted p i
hide hid pa i
travel traveled p i m
arrive arrived p i
stay stayed pa i
come came pa m i
drive drove p m t:car,bus,truck
return returned p m
move moved pa m i
receive received p t:letter,gift,card,money
get got p t:thing,food,letter,money
borrow borrowed p t:book,pen,pencil,bike,money,car
lend lent p d:book,pen,pencil,bike,money,car
drop dropped pa t:thing,FRUIT
"""

_ING_DOUBLE = {"run", "swim", "sit", "drop", "win", "get", "begin", "stop", "shop", "plan", "put", "cut"}
_THIRD_IRREGULAR = {"have": "has", "do": "does", "go": "goes"}


def verb_forms(lemma: str, past: str) -> dict[str, str]:
    """English forms of a verb: base, 3sg, past, ing."""
    if lemma in _THIRD_IRREGULAR:
        third = _THIRD_IRREGULAR[lemma]
    elif lemma.endswith(("s", "x", "z", "ch", "sh", "o")):
        third = lemma + "es"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        third = lemma[:-1] + "ies"
    else:
        third = lemma + "s"
    if lemma in _ING_DOUBLE:
        ing = lemma + lemma[-1] + "ing"
    elif lemma.endswith("ie"):
        ing = lemma[:-2] + "ying"
    elif lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")):
        ing = lemma[:-1] + "ing"
    else:
        ing = lemma + "ing"
    return {"base": lemma, "3sg": third, "past": past, "ing": ing}


@dataclass(frozen=True)
class Verb:
    lemma: str
    forms: tuple[tuple[str, str], ...]
    subj: str  # "p" person, "a" animal, "pa" both
    intransitive: bool
    motion: bool
    objects: tuple[str, ...]  # transitive objects: noun lemmas
    recipients: tuple[str, ...]  # give-type objects (to a person): noun lemmas
    rank: int

    def form(self, feature: str) -> str:
        return dict(self.forms)[feature]


_SELECTIONS = {
    "MEALS": MEALS,
    "BAKED": BAKED,
    "READABLE": READABLE,
    "WRITABLE": WRITABLE,
    "OPENABLE": OPENABLE,
    "FRUIT": FRUIT,
    "COLLECTIBLE": COLLECTIBLE,
    "PAINTABLE": PAINTABLE,
    "BUILDABLE": BUILDABLE,
    "BREAKABLE": BREAKABLE,
}


def _expand(spec: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in spec.split(","):
        if part in _SELECTIONS:
            out.extend(_SELECTIONS[part])
        elif part in NOUNS:
            out.append(part)
        elif part in ("help", "prize"):
            continue  # selection words that are not nouns of the lexicon
        else:
            out.extend(n for n, info in NOUNS.items() if info.cls == part)
    seen: dict[str, None] = {}
    for noun in out:
        if noun not in NOUNS:
            raise ValueError(f"unknown noun {noun}")
        seen.setdefault(noun, None)
    return tuple(seen)


def _parse_verbs() -> dict[str, Verb]:
    out: dict[str, Verb] = {}
    for rank, line in enumerate(x for x in _VERB_DATA.strip().splitlines() if x.strip()):
        lemma, past, subj, *frames = line.split()
        objects: tuple[str, ...] = ()
        recipients: tuple[str, ...] = ()
        for frame in frames:
            if frame.startswith("t:"):
                objects = _expand(frame[2:])
            elif frame.startswith("d:"):
                recipients = _expand(frame[2:])
        out[lemma] = Verb(
            lemma=lemma,
            forms=tuple(verb_forms(lemma, past).items()),
            subj=subj,
            intransitive="i" in frames,
            motion="m" in frames,
            objects=objects,
            recipients=recipients,
            rank=rank,
        )
    return out


VERBS: dict[str, Verb] = _parse_verbs()

# --------------------------------------------------------------------------------------------- adjectives
# adjective: noun classes (or selection lists / nouns) it combines with.
_ADJ_DATA = """
big person,animal,thing,vehicle,place,food
small person,animal,thing,vehicle,place,food
old person,animal,thing,vehicle,place
new thing,vehicle,place,song,game,job,story,book,friend,teacher,student,neighbor
good person,food,drink,abstract,book,place
little person,animal,thing
young person,animal
happy person,animal
long story,song,lesson,road,river,street,letter,book,dress,coat,week,day,night
red thing,vehicle,FRUIT,house,door
blue thing,vehicle,house,door,lake,river
green thing,vehicle,FRUIT,house,door,field,park,garden
white thing,vehicle,animal,house,door,bread,cheese
black animal,thing,vehicle,coffee
beautiful person,animal,place,flower,song,picture,dress,story
tall person,tree,house,man,woman,building
hot food,drink,day,room,kitchen
cold food,drink,day,night,room,lake,river,water,milk
tired person,animal
hungry person,animal
nice person,place,food,thing,day,song,story
sad person,animal,story,song
busy person,street,market,station,road,city,day,week
kind person
clever person,animal,idea
brave person
friendly person,animal
funny person,animal,story,game,song,idea
quiet person,animal,place,street,night,room
sweet food,drink,song,baby
fresh food,drink,flower
warm food,drink,day,room,coat,water
clean thing,place,vehicle,water
dirty thing,place,vehicle,animal
cheap thing,food,vehicle,ticket
expensive thing,food,vehicle,ticket,dress,watch
heavy thing,BOXLIKE
empty thing,place,BOXLIKE
full BOXLIKE,bus,train,room,station
dark place,night,coat,room
strong person,animal,coffee,tea
fast animal,vehicle,person
slow animal,vehicle,person
easy question,lesson,game,problem,job,homework
difficult question,lesson,game,problem,job,homework
interesting book,story,idea,question,lesson,job,game,news,city
angry person,animal
lazy person,animal
yellow thing,vehicle,flower,house,door,banana,lemon
brown animal,thing,bread
pink thing,flower,pig,dress
orange thing,vehicle,house,door
delicious food,drink
soft bread,cake,bed,coat,ball,cheese
wet animal,thing,street,road,field
"""


@dataclass(frozen=True)
class AdjInfo:
    lemma: str
    nouns: tuple[str, ...]
    rank: int


def _parse_adjs() -> dict[str, AdjInfo]:
    extra = {"BOXLIKE": ("box", "bag", "basket", "cup", "glass", "bottle", "plate"), "tree": (), "building": ()}
    out: dict[str, AdjInfo] = {}
    for rank, line in enumerate(x for x in _ADJ_DATA.strip().splitlines() if x.strip()):
        lemma, spec = line.split()
        nouns: list[str] = []
        for part in spec.split(","):
            if part in extra:
                nouns.extend(extra[part])
            else:
                nouns.extend(_expand(part))
        out[lemma] = AdjInfo(lemma, tuple(dict.fromkeys(nouns)), rank)
    return out


ADJECTIVES: dict[str, AdjInfo] = _parse_adjs()

# ---------------------------------------------------------------------------------------------- adverbs
ADVERBS: dict[str, tuple[str, ...]] = {
    # kind -> adverbs (frequency rank order)
    "manner": ("quickly", "slowly", "well", "carefully", "quietly", "happily", "loudly", "badly"),
    "plural": ("together",),
    "frequency": ("often", "always", "sometimes", "usually", "never"),
    "time_pres": ("today", "now", "again", "early"),
    "time_past": ("yesterday", "again", "early", "later"),
    "time_fut": ("tomorrow", "soon", "later", "again"),
    "place": ("here", "there", "outside", "inside"),
    "degree": ("very",),
    "other": ("also", "still"),
    "focus": ("right",),  # only in "right now"
}
ALL_ADVERBS: tuple[str, ...] = tuple(dict.fromkeys(a for group in ADVERBS.values() for a in group))

# -------------------------------------------------------------------------------------- function words
PREPOSITIONS = (
    "in", "on", "at", "to", "from", "with", "for", "near", "under", "behind", "after", "before", "into",
    "about", "of", "across", "by",
)
# determiner key -> (English form, allowed with singular, allowed with plural, allowed with mass)
DETERMINERS: dict[str, tuple[str, bool, bool, bool]] = {
    "the": ("the", True, True, True),
    "a": ("a", True, False, False),
    "this": ("this", True, False, True),
    "that": ("that", True, False, True),
    "these": ("these", False, True, False),
    "those": ("those", False, True, False),
    "some": ("some", False, True, True),
    "every": ("every", True, False, False),
    "each": ("each", True, False, False),
    "no": ("no", True, True, True),
    "many": ("many", False, True, False),
    "few": ("few", False, True, False),
    "my": ("my", True, True, True),
    "your": ("your", True, True, True),
    "his": ("his", True, True, True),
    "her": ("her", True, True, True),
    "its": ("its", True, True, True),
    "our": ("our", True, True, True),
    "their": ("their", True, True, True),
}
POSSESSIVE_OF = {"i": "my", "you": "your", "he": "his", "she": "her", "it": "its", "we": "our", "they": "their"}
# pronoun -> (nominative, accusative, person-number agreement class)
PRONOUNS: dict[str, tuple[str, str, str]] = {
    "i": ("I", "me", "1sg"),
    "you": ("you", "you", "pl"),
    "he": ("he", "him", "3sg"),
    "she": ("she", "her", "3sg"),
    "it": ("it", "it", "3sg"),
    "we": ("we", "us", "pl"),
    "they": ("they", "them", "pl"),
}
MODALS = ("can", "must", "should")
CONJUNCTIONS = {"and": "CCONJ", "but": "CCONJ", "or": "CCONJ", "so": "CCONJ", "because": "SCONJ",
                "when": "SCONJ", "while": "SCONJ", "if": "SCONJ"}

# Person names (PROPN): shared by every language and written in Latin letters there too, like named
# entities in real text. (name, gender) - gender picks his/her.
NAMES: tuple[tuple[str, str], ...] = tuple(
    (n, g)
    for group, g in (
        ("Anna Emma Mia Sara Lucy Nora Eva Vera Rosa Tina Olga Kate Dana Lily Zoe Hana Yara Mila Ida Greta", "f"),
        ("Tom Ben Sam Max Leo Paul Nick Jack Adam Noah Hugo Finn Omar Ivan Carl Raj Umar Felix Oscar Igor", "m"),
    )
    for n in group.split()
)
GENDER = dict(NAMES)


# ------------------------------------------------------------------------------------------ concept table
@dataclass(frozen=True)
class Concept:
    """One translatable unit: key, universal POS, and English surface forms by feature.

    ``forms`` maps a feature (``"sg"``/``"pl"`` for nouns, ``"base"``/``"3sg"``/``"past"``/``"ing"`` for
    verbs, ``"-"`` for uninflected words) to the English form(s) realising it (several for the copula).
    ``content`` marks open-class words (nouns, verbs, adjectives, adverbs): only those get synonyms or
    multi-word translations in toy languages.
    """

    key: str
    pos: str
    forms: tuple[tuple[str, tuple[str, ...]], ...]
    content: bool
    rank: int


def _concepts() -> dict[str, Concept]:
    out: dict[str, Concept] = {}

    def add(key: str, pos: str, forms: dict[str, tuple[str, ...]], content: bool, rank: int) -> None:
        if key in out:
            raise ValueError(f"duplicate concept {key}")
        out[key] = Concept(key, pos, tuple(forms.items()), content, rank)

    for noun, info in NOUNS.items():
        pos = "PROPN" if info.cls == "day" else "NOUN"
        forms = {"sg": (noun,)} if info.mass or info.cls == "day" else {"sg": (noun,), "pl": (english_plural(noun),)}
        add("N:" + noun, pos, forms, True, info.rank)
    for verb in VERBS.values():
        add("V:" + verb.lemma, "VERB", {k: (v,) for k, v in verb.forms}, True, verb.rank)
    for adj in ADJECTIVES.values():
        add("A:" + adj.lemma, "ADJ", {"-": (adj.lemma,)}, True, adj.rank)
    # POS follow spaCy's English conventions where they differ from textbook ones
    # ("today" NOUN, "many" ADJ, possessive determiners PRON), so POS-filtered evaluation agrees with spaCy.
    for rank, adv in enumerate(ALL_ADVERBS):
        add("R:" + adv, "NOUN" if adv in ("today", "yesterday", "tomorrow") else "ADV", {"-": (adv,)}, True, rank)
    for rank, prep in enumerate(PREPOSITIONS):
        add("P:" + prep, "ADP", {"-": (prep,)}, False, rank)
    for rank, (det, (form, *_)) in enumerate(DETERMINERS.items()):
        forms = {"-": ("a", "an")} if det == "a" else {"-": (form,)}
        pos = "PRON" if det in POSSESSIVE_OF.values() else "ADJ" if det in ("many", "few") else "DET"
        add("D:" + det, pos, forms, False, rank)
    for rank, (pron, (nom, acc, _)) in enumerate(PRONOUNS.items()):
        add(f"PR:{pron}:nom", "PRON", {"-": (nom.lower(),)}, False, rank)
        if acc.lower() != nom.lower():
            add(f"PR:{pron}:acc", "PRON", {"-": (acc,)}, False, rank)
    for rank, modal in enumerate(MODALS):
        add("X:" + modal, "AUX", {"-": (modal,)}, False, rank)
    add("X:will", "AUX", {"-": ("will",)}, False, 0)
    add("COP:pres", "AUX", {"-": ("is", "are", "am")}, False, 0)
    add("COP:past", "AUX", {"-": ("was", "were")}, False, 1)
    add("NEG", "PART", {"-": ("not",)}, False, 0)
    for rank, conj in enumerate(CONJUNCTIONS):
        add("C:" + conj, CONJUNCTIONS[conj], {"-": (conj,)}, False, rank)
    add("Q:how", "SCONJ", {"-": ("how",)}, False, 0)
    add("CMP:more", "ADJ", {"-": ("more",)}, False, 0)
    add("CMP:fewer", "ADJ", {"-": ("fewer",)}, False, 1)
    add("CMP:times", "NOUN", {"-": ("times",)}, False, 2)
    add("CMP:than", "ADP", {"-": ("than",)}, False, 3)
    add("CMP:as", "ADP", {"-": ("as",)}, False, 4)
    return out


CONCEPTS: dict[str, Concept] = _concepts()
