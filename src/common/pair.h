/* pair.h -- the words of a judgment, shared by every stage that shows or
 * stores one: the relation of two items and the confidence in it.
 *
 * Each enum has one name per value, the token the store, the JSON API and
 * the command line use ("not_related", "related", "duplicate"; "high",
 * "medium", "low"), and a parser that accepts exactly those tokens.
 */
#ifndef DP_PAIR_H
#define DP_PAIR_H

typedef enum {
    RELATION_NONE = 0,          /* not related */
    RELATION_RELATED = 1,       /* a follow-up, clone, backport, regression, sibling... */
    RELATION_DUPLICATE = 2,     /* the same problem or request */
    RELATION_COUNT
} relation_kind;

typedef enum {
    CONFIDENCE_HIGH = 0,        /* the relation's probability is at least 0.9 */
    CONFIDENCE_MEDIUM = 1,      /* ... at least 0.6 */
    CONFIDENCE_LOW = 2,
    CONFIDENCE_COUNT
} confidence_level;

const char *relation_name(relation_kind r);         /* static; "?" when out of range */
const char *relation_label(relation_kind r);        /* for people: "Not related", "Related", "Duplicate" */
int relation_parse(const char *s, relation_kind *out);        /* 0 ok, -1 unknown */
const char *confidence_name(confidence_level c);
int confidence_parse(const char *s, confidence_level *out);

#endif
