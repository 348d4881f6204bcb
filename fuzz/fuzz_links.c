/* fuzz_links.c -- link extraction from issue text (src/ingest/links.c).
 *
 * The input is the text. It is scanned four ways: as the body of pull
 * request 12 and as a comment on issue 12, each with the repository known
 * ("o/r", so full URLs and "o/r#N" resolve) and unknown.
 *
 * Checks (ingest.h): every link has both keys, a known type and the given
 * source; one end is the item itself and the other is not; each other item
 * appears at most once per text; LINK_FIXES only from a pull request's
 * body; the keys are positive numbers. */
#include "fuzz.h"

#include "../src/ingest/ingest.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_links(const link_vec *lv, const char *src, item_kind kind, const char *source)
{
    const char **others = xcalloc(lv->n + 1, sizeof *others);
    for (size_t i = 0; i < lv->n; i++) {
        const item_link *l = &lv->v[i];
        fuzz_check(l->src_key && l->dst_key && l->source, "link %zu: NULL field", i);
        fuzz_check(!strcmp(l->source, source), "link source \"%s\"", l->source);
        fuzz_check(l->type == LINK_DUPLICATE || l->type == LINK_RELATED || l->type == LINK_FIXES,
                   "link type %d", (int)l->type);
        int from_src = !strcmp(l->src_key, src), to_src = !strcmp(l->dst_key, src);
        fuzz_check(from_src != to_src, "link %s -> %s: src must be exactly one end", l->src_key,
                   l->dst_key);
        const char *other = from_src ? l->dst_key : l->src_key;
        char *end;
        long long n = strtoll(other, &end, 10);
        fuzz_check(*other && !*end && n > 0, "link to \"%s\" is not a positive number", other);
        fuzz_check(l->type != LINK_FIXES || (kind == ITEM_PR && !strcmp(source, "body") && from_src),
                   "LINK_FIXES from a %s %s", item_kind_name(kind), source);
        others[i] = other;
    }
    qsort(others, lv->n, sizeof *others, cmp_str);
    for (size_t i = 1; i < lv->n; i++) fuzz_check(strcmp(others[i], others[i - 1]), "item %s linked twice", others[i]);
    free(others);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    static const struct { item_kind kind; const char *source; const char *repo; } ways[] = {
        {ITEM_PR, "body", "o/r"}, {ITEM_PR, "body", NULL},
        {ITEM_PR, "comment", "o/r"}, {ITEM_ISSUE, "comment", NULL}};
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        link_vec lv = {0};
        ingest_links_from_text("12", ways[w].kind, text, ways[w].repo, ways[w].source, &lv);
        check_links(&lv, "12", ways[w].source[0] == 'b' ? ways[w].kind : ITEM_ISSUE, ways[w].source);
        link_vec_free(&lv);
    }
    free(text);
    return 0;
}
