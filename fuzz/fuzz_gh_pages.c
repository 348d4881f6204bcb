/* fuzz_gh_pages.c -- how `doppel sync` reads GitHub API pages
 * (src/sync/sync.c): the page parser and the converters of an issues page,
 * a single issue, a labels page and a timeline page, plus the comment
 * converter a comments page goes through.
 *
 * sync.c is included, not linked: its page functions are static, and the
 * point is to drive the code sync runs, not a copy. If a change there breaks
 * this build, adapt the calls below; the target is built and run by make
 * test. The comments page is converted here with the public converter
 * (convert_comments itself also asks the store and the network about
 * unknown issues).
 *
 * Input: the body of one HTTP 200 answer.
 *
 * Checks: a page that converts gives items with positive numeric keys and a
 * high-water mark at least their updated_at; labels come in name/colour
 * pairs of valid UTF-8; timeline links are duplicates between positive
 * numbers (once {"duplicate":{"number":-5},"canonical":{"number":7}} gave
 * "-5" -> "7").
 */
#include "../src/sync/sync.c"

#include "fuzz.h"

#define URL "https://api.github.com/repos/o/r/issues?per_page=100&page=2"

static void check_items(const page *p)
{
    for (size_t i = 0; i < p->items.n; i++) {
        const item *it = &p->items.v[i];
        fuzz_check(key_number(it->key) > 0, "item key \"%s\"", it->key ? it->key : "(null)");
        fuzz_check(it->updated_at <= p->max_updated, "max_updated below an item's updated_at");
    }
}

static void comments_page(sync_ctx *c, json_t *arr)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr)) return;
    json_array_foreach(arr, i, v) {
        comment cm;
        char *rn = NULL;
        dp_err err;
        if (ingest_github_comment(v, &cm, &rn, &err) == DP_OK) {
            link_vec lv = {0};
            fuzz_check(key_number(cm.item_key) > 0, "comment key \"%s\"", cm.item_key);
            ingest_links_from_text(cm.item_key, ITEM_ISSUE, cm.body, c->o->repo, "comment", &lv);
            link_vec_free(&lv);
        }
        comment_free(&cm);
        free(rn);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sync_opts o = {.repo = "o/r"};
    sync_ctx c = {.o = &o};
    gh_response r;
    memset(&r, 0, sizeof r);
    sb_init(&r.body);
    sb_add(&r.body, (const char *)data, size);
    json_t *j = NULL;
    dp_err err;
    if (parse_page(URL, &r, &j, &err) == DP_OK) {
        fuzz_check(json_is_array(j) || json_is_object(j), "parse_page let a scalar through");
        page p;
        memset(&p, 0, sizeof p);
        if (json_is_object(j)) {
            if (convert_item(&c, j, &p, &err) == DP_OK) check_items(&p);
        } else if (convert_items(&c, URL, j, &p, &err) == DP_OK) {
            check_items(&p);
        }
        page_free(&p);

        if (convert_labels(URL, j, &p, &err) == DP_OK) {
            fuzz_check(p.label_names.n == p.label_colors.n, "label names/colours");
            for (size_t i = 0; i < p.label_names.n; i++)
                fuzz_check(dp_utf8_valid(p.label_names.v[i], strlen(p.label_names.v[i]), NULL) &&
                               dp_utf8_valid(p.label_colors.v[i], strlen(p.label_colors.v[i]), NULL),
                           "label not UTF-8");
        }
        page_free(&p);

        if (json_is_array(j)) {
            item it;
            item_init(&it);
            it.key = xstrdup("12");
            link_vec lv = {0};
            timeline_links(&it, j, &lv);
            for (size_t i = 0; i < lv.n; i++)
                fuzz_check(lv.v[i].type == LINK_DUPLICATE && lv.v[i].src_key && lv.v[i].dst_key &&
                               key_number(lv.v[i].src_key) > 0 && key_number(lv.v[i].dst_key) > 0,
                           "timeline link %s -> %s", lv.v[i].src_key, lv.v[i].dst_key);
            link_vec_free(&lv);
            item_free(&it);
        }
        comments_page(&c, j);
    } else {
        fuzz_check(j == NULL && err.msg[0], "parse_page failed without a message");
    }
    json_decref(j);
    sb_free(&r.body);
    return 0;
}
