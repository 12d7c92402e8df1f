"""Generates valid GS1 messages over every AI of GS1's syntax dictionary, in every form a
scanner sends (bare, ]C1, ]d2, ]e0, ]Q3, Digital Link), reads each with biip, an
independent GS1 parser, and writes the messages with biip's reading as JSON lines. The Rust
test tests/it/gs1_diff.rs reads the same messages with lotline and compares. Run by
regen.sh; deterministic for one seed and one biip version."""
import datetime
import json
import random
import sys

import biip

DICTIONARY = "crates/domain/src/scan/gs1/gs1-syntax-dictionary.txt"
ISO_CODES = "crates/domain/src/scan/gs1/iso-codes.txt"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CSET39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
GS = "\x1d"
# Years within twenty of today, so that the century rule reads them alike whenever the
# test runs (the Rust side reads with a fixed "today" in 2026).
YEARS = range(2015, 2040)

rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 204)


def load():
    ais = {}
    for line in open(DICTIONARY, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        body = line.split("#", 1)[0]
        toks = body.split()
        first, rest = toks[0], toks[1:]
        flags = ""
        if rest and all(c in "*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~" for c in rest[0]):
            flags, rest = rest[0], rest[1:]
        parts, req, ex, dlpkey = [], [], [], None
        for t in rest:
            if t.startswith("req="):
                req.append([alt.split("+") for alt in t[4:].split(",")])
            elif t.startswith("ex="):
                ex += t[3:].split(",")
            elif t == "dlpkey":
                dlpkey = [[]]
            elif t.startswith("dlpkey="):
                dlpkey = [seq.split(",") for seq in t[7:].split("|")]
            else:
                opt = t.startswith("[")
                spec = t[1:].replace("]", "", 1) if opt else t
                fmt, *lints = spec.split(",")
                cset, length = fmt[0], fmt[1:]
                lo, hi = (1, int(length[2:])) if length.startswith("..") else (int(length), int(length))
                parts.append(dict(cset=cset, min=lo, max=hi, opt=opt, lints=lints))
        lo, hi = (first.split("-") + [first])[:2]
        for n in range(int(lo), int(hi) + 1):
            ai = str(n).zfill(len(lo))
            ais[ai] = dict(ai=ai, sep="*" not in flags, dlattr="?" in flags, parts=parts,
                           req=req, ex=ex, dlpkey=dlpkey)
    return ais


AIS = load()
COUNTRIES, ALPHA2, CURRENCIES = [], [], []
for line in open(ISO_CODES, encoding="ascii"):
    f = line.split()
    if f and f[0] == "country":
        COUNTRIES.append(f[1])
        ALPHA2.append(f[2])
    elif f and f[0] == "currency":
        CURRENCIES.append(f[1])


def check_digit(digits):
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - s % 10) % 10)


def csumalpha(body):
    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83]
    s = sum(CSET82.index(c) * primes[len(body) - 1 - i] for i, c in enumerate(body)) % 1021
    return body + CSET32[s >> 5] + CSET32[s & 31]


def digits(n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def text(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def date(fmt):
    d = datetime.date(rng.choice(YEARS), rng.randint(1, 12), rng.randint(1, 28))
    day = "00" if fmt == "yymmd0" and rng.random() < 0.1 else d.strftime("%d")
    return (d.strftime("%Y%m") if fmt == "yyyymmdd" else d.strftime("%y%m")) + day


def iban():
    country = rng.choice(["DE", "GB", "FR", "NL", "BE"])
    bban = digits(rng.randint(12, 20))
    num = "".join(str(int(c, 36)) for c in bban + country + "00")
    return country + str(98 - int(num) % 97).zfill(2) + bban


def part_value(p):
    lints = p["lints"]
    n = rng.randint(p["min"], min(p["max"], p["min"] + 12 if p["min"] == 1 else p["max"]))
    if "gcppos1" in lints:
        # A GS1 Company Prefix is at least 4 digits; keep a few characters after it.
        n = max(n, min(p["max"], 8))
    for lint, make in [
        ("yymmd0", lambda: date("yymmd0")), ("yymmdd", lambda: date("yymmdd")),
        ("yyyymmdd", lambda: date("yyyymmdd")),
        ("hhmi", lambda: f"{rng.randint(0, 23):02}{rng.randint(0, 59):02}"),
        ("hh", lambda: f"{rng.randint(0, 23):02}"), ("mi", lambda: f"{rng.randint(0, 59):02}"),
        ("ss", lambda: f"{rng.randint(0, 59):02}"),
        ("iso3166", lambda: rng.choice(COUNTRIES)), ("iso3166999", lambda: rng.choice(COUNTRIES + ["999"])),
        ("iso3166alpha2", lambda: rng.choice(ALPHA2)), ("iso4217", lambda: rng.choice(CURRENCIES)),
        ("iso5218", lambda: rng.choice("0129")), ("yesno", lambda: rng.choice("01")),
        ("hyphen", lambda: "-"), ("zero", lambda: "0"), ("winding", lambda: rng.choice("019")),
        ("pieceoftotal", lambda: (lambda t: f"{rng.randint(1, t):02}{t:02}")(rng.randint(1, 99))),
        ("iban", iban), ("latitude", lambda: str(rng.randint(0, 1800000000)).zfill(10)),
        ("longitude", lambda: str(rng.randint(0, 3600000000)).zfill(10)),
        ("importeridx", lambda: rng.choice("0123456789ABCXYZabcxyz-_")),
        ("packagetype", lambda: rng.choice(["BX", "CT", "PK", "1A", "43", "AE"])),
        ("mediatype", lambda: f"{rng.choice(list(range(1, 11)) + list(range(80, 100))):02}"),
        ("posinseqslash", lambda: (lambda t: f"{rng.randint(1, t)}/{t}")(rng.randint(1, 9))),
        ("couponcode", lambda: digits(n)), ("couponposoffer", lambda: digits(n)),
        ("csumalpha", lambda: csumalpha(digits(4) + text(CSET82.replace("%", ""), rng.randint(1, 19)))),
    ]:
        if lint in lints:
            return make()
    if p["cset"] == "N":
        v = digits(n)
        if "nonzero" in lints and int(v) == 0:
            v = v[:-1] + "1"
        if "nozeroprefix" in lints and v.startswith("0") and len(v) > 1:
            v = "1" + v[1:]
        if "csum" in lints:
            v = v[:-1] + check_digit(v[:-1])
        return v
    if p["cset"] == "Y":
        return digits(min(4, n)) + text(CSET39, n - min(4, n)) if "gcppos1" in lints else text(CSET39, n)
    if p["cset"] == "Z":
        return text(B64URL, n)
    # CSET 82: no '%' where it must start an escape, and (for a readable file) no quotes.
    alphabet = CSET82.replace("%", "")
    if "gcppos1" in lints:
        v = digits(min(4, n)) + text(alphabet, n - min(4, n))
    elif "pcenc" in lints and n >= 3 and rng.random() < 0.5:
        v = text(alphabet, n - 3) + "%20"
    else:
        v = text(alphabet, n)
    if "hasnondigit" in lints and v.isdigit():
        v = v[:-1] + "A"
    return v


def value(ai):
    out = ""
    for p in AIS[ai]["parts"]:
        if p["opt"] and rng.random() < 0.4:
            break
        out += part_value(p)
    return out


def matches(pattern, ai):
    return len(pattern) == len(ai) and all(p == a or p == "n" for p, a in zip(pattern, ai))


def compatible(chosen, ai):
    """Whether ai may join the chosen AIs under every ex= of both sides and lotline's rule
    that (01) and (37) never meet."""
    for other in chosen:
        if other == ai:
            return False
        if any(matches(p, other) for p in AIS[ai]["ex"]) or any(matches(p, ai) for p in AIS[other]["ex"]):
            return False
    return True


def close(chosen):
    """Adds requisites until every req= holds (SSCC included); None if it cannot."""
    for _ in range(12):
        missing = None
        for ai in list(chosen):
            for alts in AIS[ai]["req"]:
                if not any(all(any(matches(p, c) for c in chosen) for p in alt) for alt in alts):
                    missing = alts
                    break
            if missing:
                break
        if not missing:
            return chosen
        options = [alt for alt in missing]
        rng.shuffle(options)
        for alt in options:
            add = []
            for p in alt:
                if any(matches(p, c) for c in chosen):
                    continue
                cands = [a for a in AIS if matches(p, a)]
                add.append(rng.choice(cands))
            if all(compatible(chosen + add[:i], a) for i, a in enumerate(add)):
                chosen = chosen + add
                break
        else:
            return None
    return None


KEYS = ["01", "00", "8006", "414", "253", "255", "8003", "8017", "402", "417"]


def message(target):
    for _ in range(50):
        chosen = close([target])
        if chosen is None:
            continue
        # lotline reads a bare string as GS1 only when it carries a key with a check digit.
        if not any("csum" in AIS[a]["parts"][0]["lints"] for a in chosen):
            for k in rng.sample(KEYS, len(KEYS)):
                if compatible(chosen, k):
                    more = close(chosen + [k])
                    if more:
                        chosen = more
                        break
            else:
                continue
        if rng.random() < 0.5:
            extra = rng.choice(list(AIS))
            if compatible(chosen, extra):
                chosen = close(chosen + [extra]) or chosen
        # lotline's own rules: (02) only with (37), (37) only with (02) or (8026).
        if "02" in chosen and "37" not in chosen or "37" in chosen and not ({"02", "8026"} & set(chosen)):
            continue
        rng.shuffle(chosen)
        return [(ai, value(ai)) for ai in chosen]
    return None


def element_string(elements):
    out = ""
    for i, (ai, v) in enumerate(elements):
        out += ai + v
        if AIS[ai]["sep"] and i < len(elements) - 1:
            out += GS
    return out


def digital_link(elements):
    """A Digital Link for the elements if they fit one: a primary key with its qualifiers
    in the path in a permitted order, every other AI a data attribute."""
    ais = dict(elements)
    for key in ais:
        seqs = AIS[key]["dlpkey"]
        if seqs is None:
            continue
        for seq in seqs:
            quals = [q for q in seq if q in ais]
            rest = [a for a in ais if a != key and a not in quals]
            if all(AIS[a]["dlattr"] for a in rest) and not any(a in s for s in seqs for a in rest):
                enc = lambda v: "".join(c if c.isalnum() or c in "-._~" else "%%%02X" % ord(c) for c in v)
                path = f"/{key}/{enc(ais[key])}" + "".join(f"/{q}/{enc(ais[q])}" for q in quals)
                query = "&".join(f"{a}={enc(ais[a])}" for a in rest)
                return "https://id.example.com" + path + ("?" + query if query else "")
    return None


def biip_read(text):
    try:
        result = biip.parse(text)
    except Exception as e:  # biip's ParseError and anything else it raises
        return {"error": f"{type(e).__name__}: {e}".splitlines()[0]}
    msg = result.gs1_message or (result.gs1_digital_link_uri and result.gs1_digital_link_uri.as_gs1_message())
    if msg is None:
        errors = [str(getattr(result, f)) for f in dir(result) if f.endswith("_error") and getattr(result, f)]
        return {"error": (errors[0] if errors else "not read as GS1").splitlines()[0]}
    out = []
    for es in msg.element_strings:
        d = es.date.isoformat() if es.date else None
        out.append([es.ai.ai, es.value, d, str(es.decimal) if es.decimal is not None else None])
    return {"elements": out}


def main():
    out = open(sys.argv[1], "w", encoding="utf-8")
    count = 0
    forms = ["bare", "]C1", "]d2", "]e0", "]Q3", "dl"]
    for _ in range(1):
        for target in sorted(AIS):
            for form in forms:
                elements = message(target)
                if elements is None:
                    continue
                if form == "dl":
                    text = digital_link(elements)
                    if text is None:
                        continue
                else:
                    text = ("" if form == "bare" else form) + element_string(elements)
                row = {"form": form, "input": text, "sent": elements, "biip": biip_read(text)}
                out.write(json.dumps(row, ensure_ascii=True) + "\n")
                count += 1
    print(f"{count} messages", file=sys.stderr)


main()
