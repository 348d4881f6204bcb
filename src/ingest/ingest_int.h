/* ingest_int.h -- helpers shared by the ingest converters (not a public API).
 *
 * Every getter reads one member of a JSON object, checks its type and fails
 * with "<name>: expected <type>" where name is the dotted path the caller
 * gives ("user.login", "fields.summary"). A missing member or JSON null is
 * not an error: the out value is left NULL / 0 unless the member is required.
 * Strings come back as owned copies.
 */
#ifndef DP_INGEST_INT_H
#define DP_INGEST_INT_H

#include <jansson.h>
#include "../common/util.h"

enum { J_OPTIONAL = 0, J_REQUIRED = 1 };

int ij_str(json_t *obj, const char *key, const char *name, int required, char **out, dp_err *err);
int ij_int(json_t *obj, const char *key, const char *name, int required, int64_t *out, dp_err *err);
/* A count the tracker reports (comments, reactions, votes): an integer from
 * 0 to INT_MAX. Anything else is refused, naming the field and the value:
 * a negative count or one past 2^31 is a broken export, and a cast to int
 * would store 2^63-1 as -1. */
int ij_count(json_t *obj, const char *key, const char *name, int *out, dp_err *err);
/* The same check for a value in hand (a sum, a bare number). */
int ij_count_value(int64_t v, const char *name, int *out, dp_err *err);
/* A tracker id written as decimal digits ("10234" or "...#issuecomment-10234"):
 * 1 to 18 digits, positive; 0 for anything else, so a malformed or
 * overflowing id never aliases another (strtoll saturates at 2^63-1). */
int64_t ij_parse_id(const char *s);
int ij_time(json_t *obj, const char *key, const char *name, int64_t *out, dp_err *err);
/* Member that must be an object (or absent/null: *out = NULL). */
int ij_obj(json_t *obj, const char *key, const char *name, json_t **out, dp_err *err);
int ij_arr(json_t *obj, const char *key, const char *name, json_t **out, dp_err *err);
/* obj[key].sub as a string, e.g. status.name; absent/null gives NULL. */
int ij_sub_str(json_t *obj, const char *key, const char *sub, const char *name, char **out,
               dp_err *err);
/* Appends arr[i].sub (or arr[i] itself when sub is NULL) for every element. */
int ij_names(json_t *obj, const char *key, const char *sub, const char *name, strvec *out,
             dp_err *err);

/* "o/r" from ".../repos/o/r[/...]" (API) or "https://host/o/r/..." (web). */
char *ij_repo_from_api_url(const char *url);
char *ij_repo_from_web_url(const char *url);
/* The trailing number of ".../issues/123" or ".../pull/123"; 0 if none. */
int64_t ij_trailing_number(const char *url);

/* ---- the picking parser (pick.c) -----------------------------------------
 * A converter's record parsed with only the members it reads: ij_keep lists
 * the member names of an object (ending with {NULL}); sub says what is kept
 * of that member's value when it is an object, or of each object element
 * when it is an array (NULL: nothing, the value keeps only its type).
 * A kept member keeps its type and, for scalars, its value, so a converter
 * gives on the picked object exactly what it gives on the full one --
 * provided its keep list names every member it reads (the converters and
 * their lists sit side by side in github.c; tests/unit/ingest/test_pick.c
 * and fuzz/fuzz_pick.c compare both ways of parsing).
 * ij_pick returns the picked object (owned), or NULL when the record must
 * take jansson's full parse: not valid JSON, not an object, or input on
 * which the two parsers could disagree (see pick.c). */
typedef struct ij_keep {
    const char *key;
    const struct ij_keep *sub;
} ij_keep;

json_t *ij_pick(const char *data, size_t len, const ij_keep *spec);

/* A per-thread arena for jansson's allocations while one record is picked
 * and converted: jansson then costs a pointer bump per value instead of a
 * malloc and a free (they were a fifth of the parsers' CPU time).
 * ij_arena_setup installs the allocator (once per process; any thread may
 * call it, before or while jansson is in use elsewhere: outside an arena it
 * is malloc and free). Between ij_arena_begin and ij_arena_end on one
 * thread, jansson's allocations come from the thread's arena (or from
 * malloc once it is full) and its frees of arena memory do nothing;
 * ij_arena_end reclaims all of it, so no value made in between may be used
 * after it (decref'd or not). ij_arena_release frees the thread's arena
 * (at thread end). ij_arena_used: bytes handed out since ij_arena_begin. */
void ij_arena_setup(void);
void ij_arena_begin(void);
void ij_arena_end(void);
void ij_arena_release(void);
size_t ij_arena_used(void);
/* The same selection made from jansson's full tree of a record (owned; NULL
 * when obj is not an object): what ij_pick must equal (json_equal) for
 * every record it does not leave to jansson. For tests. */
json_t *ij_project(json_t *obj, const ij_keep *spec);

/* What ingest_github_item + ingest_github_label_colors, ingest_gh_item +
 * ingest_github_label_colors and ingest_github_comment read. */
extern const ij_keep ij_keep_github_item[], ij_keep_gh_item[], ij_keep_github_comment[];

#endif
