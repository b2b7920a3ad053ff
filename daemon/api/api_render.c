/* api_render.c -- JSON rendering of the local API's answers (docs/API.md)
 * from the structs of the views layer.
 *
 * Every op shows a tip through api_tip_json, so a tip looks the same in
 * search, list, get, questions and today. Rendering is pure: the figures it
 * shows were computed by views_* in the request's read view, so a request
 * running on a reader thread renders without touching the store again.
 */
#include "api_render.h"

#include <string.h>

#include "store.h"

json_t *api_json_hex(const uint8_t *b, size_t n)
{
    char hex[2 * 64 + 1];
    event_hex(b, n < 64 ? n : 64, hex);
    return json_string(hex);
}

json_t *api_json_time(uint64_t ms)
{
    char t[40];
    event_time_rfc3339(ms, t, sizeof(t));
    return json_string(t);
}

/* A string that came out of the store: valid UTF-8 by the event format, but
 * never trust that enough to return NULL from json_string. */
json_t *api_json_str(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("");
}

json_t *api_tip_json(const event_t *ev, const views_tip_t *fig)
{
    json_t *o = json_object();
    if (!o) return NULL;
    const store_stats_t *st = &fig->st;
    json_object_set_new(o, "id", api_json_hex(ev->id, EVENT_ID_LEN));
    const char *kn = event_kind_name(ev->kind);
    json_object_set_new(o, "kind", json_string(kn ? kn : "unknown"));
    json_object_set_new(o, "title", api_json_str(ev->title));
    json_object_set_new(o, "body", api_json_str(ev->body));
    json_t *topics = json_array();
    for (int i = 0; i < ev->ntopics; i++)
        json_array_append_new(topics, api_json_str(ev->topics[i]));
    json_object_set_new(o, "topics", topics);
    json_object_set_new(o, "author", api_json_hex(ev->author, EVENT_KEY_LEN));
    json_object_set_new(o, "author_name", api_json_str(fig->author_name));
    json_object_set_new(o, "author_team", api_json_str(fig->author_team));
    json_object_set_new(o, "anonymous", json_boolean(fig->anonymous));
    json_object_set_new(o, "created_at", api_json_time(ev->created_at));
    json_object_set_new(o, "created_at_ms", json_integer((json_int_t)ev->created_at));
    /* Imported (event version 2): the author is who imported it. */
    json_object_set_new(o, "imported", json_boolean(ev->imported));
    if (ev->source_len) json_object_set_new(o, "source", api_json_str(ev->source));
    json_object_set_new(
        o, "rating", st->ratings ? json_real((double)st->rating_sum / st->ratings) : json_null());
    json_object_set_new(o, "ratings", json_integer(st->ratings));
    json_object_set_new(o, "thanks", json_integer(st->thanks));
    json_object_set_new(o, "answers", json_integer(st->answers));
    json_t *refs = json_array();
    for (int i = 0; i < ev->nrefs; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "role", json_string(event_ref_role_name(ev->refs[i].role)));
        json_object_set_new(r, "id", api_json_hex(ev->refs[i].id, EVENT_ID_LEN));
        json_array_append_new(refs, r);
        if (ev->refs[i].role == EVENT_REF_TARGET)
            json_object_set_new(o, "target", api_json_hex(ev->refs[i].id, EVENT_ID_LEN));
    }
    json_object_set_new(o, "refs", refs);
    json_object_set_new(o, "value", json_integer(ev->value));
    json_object_set_new(o, "superseded", json_boolean(st->superseded));
    if (st->superseded) json_object_set_new(o, "latest", api_json_hex(st->latest, EVENT_ID_LEN));
    return o;
}

json_t *api_misses_json(const views_miss_t *v, size_t n)
{
    json_t *res = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            res, json_pack("{s:o, s:I, s:o, s:I}", "query", api_json_str(v[i].query), "count",
                           (json_int_t)v[i].count, "last", api_json_time(v[i].last_ms), "last_ms",
                           (json_int_t)v[i].last_ms));
    return res;
}

static json_t *s_story(const views_story_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", api_json_hex(s->id, EVENT_ID_LEN));
    json_object_set_new(o, "tip", api_json_hex(s->tip, EVENT_ID_LEN));
    json_object_set_new(o, "tip_title", api_json_str(s->tip_title));
    json_object_set_new(o, "from", api_json_hex(s->from, EVENT_KEY_LEN));
    json_object_set_new(o, "from_name", api_json_str(s->from_name));
    json_object_set_new(o, "to", api_json_hex(s->to, EVENT_KEY_LEN));
    json_object_set_new(o, "to_name", api_json_str(s->to_name));
    json_object_set_new(o, "story", api_json_str(s->story));
    json_object_set_new(o, "created_at", api_json_time(s->created_at));
    json_object_set_new(o, "created_at_ms", json_integer((json_int_t)s->created_at));
    return o;
}

static json_t *s_stories(const views_story_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, s_story(&v[i]));
    return a;
}

static json_t *s_me(const views_stats_t *st)
{
    const store_author_t *a = &st->me.a;
    /* Writing and importing are told apart: "tips" are the ones they wrote. */
    json_t *gave =
        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "tips", a->tips - a->answers - a->imported,
                  "imported", a->imported, "answers", a->answers, "questions", a->questions,
                  "ratings", a->ratings_given, "thanks", a->thanks_given);
    json_t *got = json_pack("{s:i, s:i, s:o, s:i, s:i, s:o}", "thanks", a->thanks_received,
                            "ratings", a->ratings_received, "rating",
                            a->ratings_received
                                ? json_real((double)a->rating_sum_received / a->ratings_received)
                                : json_null(),
                            "answers", st->me.answers_got, "open_questions", st->me.open_questions,
                            "stories", s_stories(st->me.stories, st->me.nstories));
    return json_pack("{s:o, s:s, s:s, s:o, s:o}", "author", api_json_hex(a->author, EVENT_KEY_LEN),
                     "name", st->me.name, "team", st->me.team, "gave", gave, "got", got);
}

json_t *api_stats_json(const views_stats_t *st)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "tips", json_integer((json_int_t)st->counts.tips));
    json_object_set_new(o, "imported", json_integer(st->imported)); /* of those tips */
    json_object_set_new(o, "questions", json_integer((json_int_t)st->counts.questions));
    json_object_set_new(o, "answers", json_integer(st->answers));
    json_object_set_new(o, "open_questions", json_integer(st->open_questions));
    json_object_set_new(o, "contributors", json_integer(st->contributors));
    json_object_set_new(o, "anonymous_posts", json_integer(st->anonymous_posts));
    /* Thanks and ratings on live tips and questions: those on retracted ones
     * no longer tell anyone anything (store_counts still has them). */
    json_object_set_new(o, "thanks", json_integer(st->thanks));
    json_object_set_new(o, "ratings", json_integer((json_int_t)st->ratings));
    json_object_set_new(
        o, "rating", st->ratings ? json_real((double)st->rating_sum / st->ratings) : json_null());
    json_object_set_new(o, "events", json_integer((json_int_t)st->counts.events));
    json_t *wk = json_array();
    for (int i = 0; i < st->weeks; i++) {
        uint64_t ws = st->start + (uint64_t)i * VIEWS_WEEK_MS;
        json_array_append_new(wk, json_pack("{s:o, s:I, s:i}", "start", api_json_time(ws),
                                            "start_ms", (json_int_t)ws, "tips", st->per_week[i]));
    }
    json_object_set_new(o, "weeks", wk);
    json_t *tt = json_array();
    for (size_t i = 0; i < st->ntopics; i++)
        json_array_append_new(
            tt, json_pack("{s:s, s:i}", "topic", st->topics[i].topic, "tips", st->topics[i].tips));
    json_object_set_new(o, "top_topics", tt);
    json_t *th = json_array();
    for (size_t i = 0; i < st->nthanked; i++) {
        const views_thanked_t *t = &st->thanked[i];
        json_array_append_new(th, json_pack("{s:o, s:s, s:s, s:i, s:i}", "author",
                                            api_json_hex(t->author, EVENT_KEY_LEN), "author_name",
                                            t->name, "author_team", t->team, "thanks", t->thanks,
                                            "tips", t->tips));
    }
    json_object_set_new(o, "top_thanked", th);
    json_object_set_new(o, "stories", s_stories(st->stories, st->nstories));
    json_object_set_new(o, "misses", api_misses_json(st->misses, st->nmisses));
    if (st->has_me) json_object_set_new(o, "me", s_me(st));
    return o;
}
