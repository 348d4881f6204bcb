/* json.c -- typed member access for the converters (see ingest_int.h). */
#include "ingest_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the per-record arena (see ij_arena_setup) ------------------------- */

#define ARENA_SIZE (1u << 20)   /* a GitHub record's kept values take a few KB */

typedef struct arena {
    char *buf;                  /* ARENA_SIZE bytes, or NULL */
    size_t used;
    int active;
} arena;

static _Thread_local arena ja;

static void *arena_malloc(size_t n)
{
    if (ja.active) {
        size_t need = (n + 15) & ~(size_t)15;   /* malloc's alignment */
        if (need >= n && need <= ARENA_SIZE - ja.used) {
            void *p = ja.buf + ja.used;
            ja.used += need;
            return p;
        }
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    /* This thread's arena memory is reclaimed by ij_arena_end; anything
     * else (another thread's, or malloc's past a full arena) is malloc's. */
    if (ja.buf && (char *)p >= ja.buf && (char *)p < ja.buf + ARENA_SIZE) return;
    free(p);
}

static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void arena_install(void) { json_set_alloc_funcs(arena_malloc, arena_free); }

void ij_arena_setup(void) { pthread_once(&arena_once, arena_install); }

void ij_arena_begin(void)
{
    if (!ja.buf) ja.buf = xmalloc(ARENA_SIZE);
    ja.used = 0;
    ja.active = 1;
}

void ij_arena_end(void)
{
    ja.active = 0;
    ja.used = 0;
}

size_t ij_arena_used(void) { return ja.used; }

void ij_arena_release(void)
{
    free(ja.buf);
    ja = (arena){0};
}

/* ---- typed member access ------------------------------------------------ */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int expected(const char *name, const char *what, const json_t *got, dp_err *err)
{
    return dp_fail(err, "%s: expected %s, got %s", name, what, type_name(got));
}

/* Jansson guarantees valid UTF-8 in parsed strings; a NUL can only get in
 * through JSON_ALLOW_NUL or a hand-built object, and would silently cut the
 * text short in C and in SQLite, so it is refused here too. */
static int string_value(json_t *v, const char *name, char **out, dp_err *err)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n)) return dp_fail(err, "%s: contains a NUL character", name);
    *out = xstrndup(s, n);
    return DP_OK;
}

int ij_str(json_t *obj, const char *key, const char *name, int required, char **out, dp_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return dp_fail(err, "%s: missing", name);
        return DP_OK;
    }
    if (!json_is_string(v)) return expected(name, "string", v, err);
    return string_value(v, name, out, err);
}

int ij_int(json_t *obj, const char *key, const char *name, int required, int64_t *out, dp_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v)) {
        if (required) return dp_fail(err, "%s: missing", name);
        return DP_OK;
    }
    if (!json_is_integer(v)) return expected(name, "integer", v, err);
    *out = (int64_t)json_integer_value(v);
    return DP_OK;
}

int ij_count_value(int64_t v, const char *name, int *out, dp_err *err)
{
    if (v < 0 || v > INT_MAX)
        return dp_fail(err, "%s: expected a count from 0 to %d, got %lld", name, INT_MAX, (long long)v);
    *out = (int)v;
    return DP_OK;
}

int ij_count(json_t *obj, const char *key, const char *name, int *out, dp_err *err)
{
    int64_t v;
    *out = 0;
    if (ij_int(obj, key, name, J_OPTIONAL, &v, err) != DP_OK) return DP_ERR;
    return ij_count_value(v, name, out, err);
}

int64_t ij_parse_id(const char *s)
{
    size_t n = 0;
    if (!s) return 0;
    while (s[n] >= '0' && s[n] <= '9') n++;
    if (n == 0 || n > 18 || s[n] != '\0') return 0;
    return strtoll(s, NULL, 10);
}

int ij_time(json_t *obj, const char *key, const char *name, int64_t *out, dp_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v)) return DP_OK;
    if (!json_is_string(v)) return expected(name, "timestamp string", v, err);
    const char *s = json_string_value(v);
    if (*s == '\0') return DP_OK;
    if (dp_parse_time(s, out) != DP_OK)
        return dp_fail(err, "%s: bad timestamp \"%.40s\"", name, s);
    /* gh prints the zero time "0001-01-01T00:00:00Z" for "never". */
    if (*out < 0) *out = 0;
    return DP_OK;
}

int ij_obj(json_t *obj, const char *key, const char *name, json_t **out, dp_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return DP_OK;
    if (!json_is_object(v)) return expected(name, "object", v, err);
    *out = v;
    return DP_OK;
}

int ij_arr(json_t *obj, const char *key, const char *name, json_t **out, dp_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return DP_OK;
    if (!json_is_array(v)) return expected(name, "array", v, err);
    *out = v;
    return DP_OK;
}

int ij_sub_str(json_t *obj, const char *key, const char *sub, const char *name, char **out,
               dp_err *err)
{
    json_t *o;
    *out = NULL;
    if (ij_obj(obj, key, name, &o, err) != DP_OK) return DP_ERR;
    if (!o) return DP_OK;
    char path[128];
    snprintf(path, sizeof path, "%s.%s", name, sub);
    return ij_str(o, sub, path, J_OPTIONAL, out, err);
}

int ij_names(json_t *obj, const char *key, const char *sub, const char *name, strvec *out,
             dp_err *err)
{
    json_t *arr, *el;
    size_t i;
    if (ij_arr(obj, key, name, &arr, err) != DP_OK) return DP_ERR;
    if (!arr) return DP_OK;
    json_array_foreach(arr, i, el) {
        char path[128], *s;
        snprintf(path, sizeof path, "%s[%zu]", name, i);
        if (sub) {
            if (!json_is_object(el)) return expected(path, "object", el, err);
            snprintf(path, sizeof path, "%s[%zu].%s", name, i, sub);
            if (ij_str(el, sub, path, J_REQUIRED, &s, err) != DP_OK) return DP_ERR;
        } else {
            if (!json_is_string(el)) return expected(path, "string", el, err);
            if (string_value(el, path, &s, err) != DP_OK) return DP_ERR;
        }
        sv_push_owned(out, s);
    }
    return DP_OK;
}

/* Copies the two path segments starting at p ("o/r/..." -> "o/r"). */
static char *two_segments(const char *p)
{
    const char *slash = strchr(p, '/');
    if (!slash || slash == p) return NULL;
    const char *end = slash + 1;
    while (*end && *end != '/' && *end != '#' && *end != '?') end++;
    if (end == slash + 1) return NULL;
    return xstrndup(p, (size_t)(end - p));
}

char *ij_repo_from_api_url(const char *url)
{
    const char *p = url ? strstr(url, "/repos/") : NULL;
    return p ? two_segments(p + 7) : NULL;
}

char *ij_repo_from_web_url(const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p) return NULL;
    p = strchr(p + 3, '/');
    return p ? two_segments(p + 1) : NULL;
}

int64_t ij_trailing_number(const char *url)
{
    if (!url) return 0;
    size_t n = strcspn(url, "#?");
    size_t i = n;
    while (i > 0 && url[i - 1] >= '0' && url[i - 1] <= '9') i--;
    if (i == n || i == 0 || url[i - 1] != '/' || n - i > 15) return 0;
    return strtoll(url + i, NULL, 10);
}
