/* item.h -- the data model every stage passes along: items (issues and pull
 * requests), their comments, and links between items.
 *
 * Items are named by `key`, the id a user sees: "4606" on GitHub, "HIVE-123"
 * on Jira. Keys are unique within a repository. All strings are owned by the
 * struct that holds them; *_free() releases the fields (not the struct).
 * Timestamps are UTC seconds since the epoch, 0 when unknown.
 */
#ifndef DP_ITEM_H
#define DP_ITEM_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef enum { ITEM_ISSUE = 0, ITEM_PR = 1 } item_kind;

typedef struct item {
    int64_t rowid;        /* store row id; 0 until stored */
    char *key;            /* "4606" or "HIVE-123" */
    int64_t number;       /* numeric part of key, for ordering and #N links */
    item_kind kind;
    char *title;          /* never NULL once parsed ("" if absent) */
    char *body;           /* markdown or Jira wiki markup; "" if absent */
    char *state;          /* "open" or "closed" */
    char *state_reason;   /* GitHub state_reason ("completed", "not_planned",
                             "duplicate", ...) or Jira resolution name; NULL */
    char *author;         /* login / Jira name; NULL if unknown */
    int64_t created_at, updated_at, closed_at;
    strvec labels;        /* GitHub labels; Jira labels */
    strvec components;    /* Jira components; empty on GitHub */
    strvec versions;      /* Jira affected versions; empty on GitHub */
    char *type;           /* Jira issuetype name; NULL on GitHub */
    char *priority;       /* Jira priority name; NULL on GitHub */
    int ncomments;        /* comment count as reported by the tracker */
    int reactions;        /* total reactions (GitHub), votes (Jira) */
    char *url;            /* canonical web URL; NULL if unknown */
    int deleted;          /* 1 when the tracker answered 404/410 for it */
} item;

typedef struct comment {
    int64_t id;           /* tracker's comment id; 0 if it has none */
    char *item_key;       /* key of the item it belongs to */
    char *author;
    char *body;
    int64_t created_at, updated_at;
} comment;

typedef enum {
    LINK_DUPLICATE = 1,   /* src is a duplicate of dst */
    LINK_RELATED = 2,     /* src mentions / relates to dst (cross-reference) */
    LINK_FIXES = 3        /* src (a pull request) fixes/closes dst */
} link_type;

typedef struct item_link {
    char *src_key;
    char *dst_key;
    link_type type;
    char *source;         /* where it was found, for reasoning: "state_reason",
                             "body", "comment", "jira:Duplicate", "jira:Relates"... */
} item_link;

void item_init(item *it);              /* zeroes, strings NULL */
void item_free(item *it);              /* frees fields; leaves it zeroed */
void item_copy(item *dst, const item *src);   /* deep copy */
void comment_free(comment *c);
void item_link_free(item_link *l);
/* 1 when the tracker itself typed the link (a Jira issue link, source
 * "jira:<type>"), 0 when it was read from text. On a tracker that types
 * its links, only those are a maintainer's decision: the ranker's link
 * features and the ground truth of eval read them alone. */
int item_link_typed(const item_link *l);
/* 1 when any of the links is typed (see above). */
int item_links_any_typed(const item_link *links, size_t n);
const char *item_kind_name(item_kind k);  /* "issue" / "pull request" */
/* A link type's token for JSON and text: "duplicate", "related", "fixes";
 * "?" when out of range. */
const char *item_link_type_name(link_type t);
int item_is_open(const item *it);
/* 1 when a closed item was closed as fixed: an issue closed as completed,
 * fixed, done, resolved... or with no reason given; a pull request only
 * when merged. */
int item_closed_fixed(const item *it);

/* Growable arrays of the above, owning their elements. */
typedef struct item_vec { item *v; size_t n, cap; } item_vec;
typedef struct comment_vec { comment *v; size_t n, cap; } comment_vec;
typedef struct link_vec { item_link *v; size_t n, cap; } link_vec;

item *item_vec_push(item_vec *vec);            /* returns a zeroed slot */
comment *comment_vec_push(comment_vec *vec);
item_link *link_vec_push(link_vec *vec);
void item_vec_free(item_vec *vec);
/* How many of v[0..n) were created before t: the first index created at or
 * after t, when v is in creation order (a binary search). */
size_t items_created_before(const item *v, size_t n, int64_t t);
void comment_vec_free(comment_vec *vec);
void link_vec_free(link_vec *vec);

#endif
