#!/usr/bin/python3
"""search_xapian.py -- the Xapian reference for bench-search.

bench-search runs this (with Debian's /usr/bin/python3 and python3-xapian)
so that Xapian is measured in the same run as tipd and SQLite FTS5. It
indexes the corpus (JSON Lines: title, body, topics, lang, source) into an
in-memory Xapian database -- title with wdf x2 and topics as text, like
FTS5's title weight 2 -- with the Snowball stemmer of each page's language
where Xapian has one (English otherwise), and ranks with BM25 (Xapian's
defaults) over an OR query of the stemmed words.

Input on stdin, one query per line: expected source, TAB, language, TAB,
query. Output, one line per query: the 1-based rank of the expected source
in the top 10 (0 if absent), a space, the search time in microseconds.

Usage: search_xapian.py CORPUS < queries > ranks
"""
import json
import sys
import time

import xapian

LANGS = {
    "en": "english", "es": "spanish", "nl": "dutch", "it": "italian",
    "id": "indonesian", "pt_BR": "portuguese", "pt_PT": "portuguese",
    "fr": "french", "de": "german", "ru": "russian", "tr": "turkish",
    "ta": "tamil", "fi": "finnish", "ca": "catalan", "ro": "romanian",
    "sv": "swedish", "no": "norwegian", "nb": "norwegian", "da": "danish",
    "ar": "arabic", "el": "greek", "hi": "hindi", "ne": "nepali",
}


def stemmer(lang):
    try:
        return xapian.Stem(LANGS.get(lang, "english"))
    except xapian.InvalidArgumentError:
        return xapian.Stem("english")


def main():
    db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
    tg = xapian.TermGenerator()
    sources = []
    with open(sys.argv[1], encoding="utf-8") as fp:
        for line in fp:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            doc = xapian.Document()
            tg.set_document(doc)
            tg.set_stemmer(stemmer(o.get("lang", "en")))
            tg.index_text(o.get("title", ""), 2)
            tg.increase_termpos()
            tg.index_text(o.get("body", ""))
            tg.increase_termpos()
            tg.index_text(" ".join(o.get("topics", [])))
            db.add_document(doc)
            sources.append(o.get("source", ""))
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight())
    qp = xapian.QueryParser()
    qp.set_database(db)
    qp.set_default_op(xapian.Query.OP_OR)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    out = []
    for line in sys.stdin:
        parts = line.rstrip("\n").split("\t", 2)
        if len(parts) != 3:
            out.append("0 0")
            continue
        want, lang, text = parts
        t0 = time.perf_counter()
        qp.set_stemmer(stemmer(lang))
        try:
            q = qp.parse_query(text, 0)
        except xapian.QueryParserError:
            q = xapian.Query()
        enq.set_query(q)
        mset = enq.get_mset(0, 10)
        ids = [m.docid for m in mset]
        dt = (time.perf_counter() - t0) * 1e6
        rank = 0
        for i, d in enumerate(ids):
            if sources[d - 1] == want:
                rank = i + 1
                break
        out.append("%d %.1f" % (rank, dt))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
