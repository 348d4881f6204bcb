/* cmd_show.c -- `doppel show KEY`: one stored item as the store holds it --
 * state, dates, labels with their colours, the links that touch it, its
 * comments -- as text or in the item's JSON shape (explain_item_json). What
 * a script or a test reads instead of the store's tables. Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "../explain/explain.h"
#include "../explain/report.h"

/* What show prints besides the item itself. */
typedef struct shown {
    strvec lnames, lcolors;   /* the repository's label colours ("" unknown) */
    link_vec links;           /* links touching the item, either direction */
    comment_vec comments;     /* its stored comments, oldest first */
} shown;

static void shown_free(shown *s)
{
    sv_free(&s->lnames);
    sv_free(&s->lcolors);
    link_vec_free(&s->links);
    comment_vec_free(&s->comments);
}

/* The colour of label name, or NULL when the store knows none. */
static const char *label_color(const shown *s, const char *name)
{
    for (size_t i = 0; i < s->lnames.n && i < s->lcolors.n; i++)
        if (!strcasecmp(s->lnames.v[i], name)) return *s->lcolors.v[i] ? s->lcolors.v[i] : NULL;
    return NULL;
}

static int load(store *st, int64_t repo, const char *key, item *it, shown *s, dp_err *err)
{
    int rc = store_item_get(st, repo, key, it, err);
    if (rc != DP_OK) return rc;
    if (store_label_colors_load(st, repo, &s->lnames, &s->lcolors, err) != DP_OK ||
        store_links_for(st, repo, key, &s->links, err) != DP_OK ||
        store_comments_load(st, repo, key, &s->comments, err) != DP_OK)
        return DP_ERR;
    return DP_OK;
}

/* The item's JSON (explain_item_json) with "repo" (its id, as the API
 * gives it), "label_colors", "links" and "comment_total". */
static json_t *to_json(int64_t repo, const item *it, const shown *s)
{
    json_t *o = explain_item_json(it), *colors = json_object(), *links = json_array();
    json_object_set_new(o, "repo", json_integer((json_int_t)repo));
    for (size_t i = 0; i < it->labels.n; i++) {
        const char *name = it->labels.v[i];
        size_t n;
        char *fixed = dp_utf8_repaired(name, strlen(name), &n);   /* a key must be UTF-8 */
        json_object_set_new(colors, fixed ? fixed : name, explain_jstr(label_color(s, name)));
        free(fixed);
    }
    json_object_set_new(o, "label_colors", colors);
    for (size_t i = 0; i < s->links.n; i++) {
        const item_link *l = &s->links.v[i];
        json_array_append_new(links, json_pack("{s:s, s:o, s:o, s:o}", "type", item_link_type_name(l->type), "from",
                                               explain_jstr(l->src_key), "to", explain_jstr(l->dst_key), "source",
                                               explain_jstr(l->source)));
    }
    json_object_set_new(o, "links", links);
    json_object_set_new(o, "comment_total", json_integer((json_int_t)s->comments.n));
    return o;
}

/* Appends the tracker's text s as one safe terminal line (control
 * characters replaced, cut at cols): every string below comes from the data. */
static void put(sbuf *sb, const char *s, size_t cols)
{
    explain_trunc(sb, s ? s : "?", cols);
}

static void put_ref(sbuf *sb, const char *key)
{
    char ref[64];
    put(sb, explain_ref(key, ref, sizeof ref), 60);
}

static void put_time(sbuf *sb, const char *what, int64_t t)
{
    char at[32] = "unknown";
    if (t) dp_format_time(t, at, sizeof at);
    sb_printf(sb, "  %-8s %s\n", what, at);
}

static void print_text(const item *it, const shown *s)
{
    sbuf sb;
    sb_init(&sb);
    put_ref(&sb, it->key);
    sb_adds(&sb, "  ");
    put(&sb, it->title, 200);
    sbuf state;   /* the state reason is the tracker's text too */
    sb_init(&state);
    explain_state_words(&state, it);
    sb_adds(&sb, "\n  ");
    put(&sb, sb_str(&state), 100);
    sb_free(&state);
    if (it->deleted) sb_adds(&sb, ", deleted upstream");
    sb_adds(&sb, "\n");
    if (it->author) {
        sb_adds(&sb, "  author   ");
        put(&sb, it->author, 60);
        sb_adds(&sb, "\n");
    }
    put_time(&sb, "created", it->created_at);
    put_time(&sb, "updated", it->updated_at);
    if (it->closed_at) put_time(&sb, "closed", it->closed_at);
    for (size_t i = 0; i < it->labels.n; i++) {
        const char *col = label_color(s, it->labels.v[i]);
        sb_adds(&sb, "  label    ");
        put(&sb, it->labels.v[i], 60);
        if (col) {
            sb_adds(&sb, " (#");
            put(&sb, col, 16);
            sb_adds(&sb, ")");
        }
        sb_adds(&sb, "\n");
    }
    for (size_t i = 0; i < s->links.n; i++) {
        const item_link *l = &s->links.v[i];
        sb_adds(&sb, "  link     ");
        put_ref(&sb, l->src_key);
        sb_adds(&sb, " \xe2\x86\x92 ");
        put_ref(&sb, l->dst_key);
        sb_printf(&sb, "  %s (from ", item_link_type_name(l->type));
        put(&sb, l->source, 60);
        sb_adds(&sb, ")\n");
    }
    sb_printf(&sb, "  comments %zu stored (the tracker counts %d)\n", s->comments.n, it->ncomments);
    if (it->url) {
        sb_adds(&sb, "  ");
        put(&sb, it->url, 300);
        sb_adds(&sb, "\n");
    }
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
}

int cmd_show(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL;
    int json = 0, nargs;
    const cli_opt opts[] = {
        CLI_STR("repo", 0, &repo, "R", "repository (default: the only one)"),
        CLI_FLAG("json", 0, &json, "the item's JSON object (README, \"JSON\") with repo,\n"
                                   "label_colors, links [{type, from, to, source}] and\n"
                                   "comment_total"),
        CLI_DB(&db),
        CLI_END,
    };
    const cli_cmd c = {"show", "usage: doppel show KEY [--db PATH] [--repo R] [--json]\n",
                       "Shows one stored item: state, dates, labels and their colours, the links\n"
                       "that touch it (either direction) and how many comments the store holds.\n",
                       "Exit status: 0 shown; 1 failed; 2 usage error; 3 no such item.\n", opts, 0};
    int rc = cli_parse(&c, argc, argv, &nargs);
    if (rc != CLI_GO) return rc;
    if (nargs != 1) return cli_usage_error(&c, nargs ? "one KEY at a time" : "which item? give its KEY");
    const char *key = argv[1][0] == '#' ? argv[1] + 1 : argv[1];
    store *st = cli_open_store("show", db);
    if (!st) return EXIT_FAIL;
    dp_err err;
    int64_t repo_id;
    item it;
    shown s = {0};
    item_init(&it);
    rc = store_repo_resolve(st, repo, &repo_id, &err);
    if (rc == DP_OK) rc = load(st, repo_id, key, &it, &s, &err);
    if (rc == DP_NOTFOUND) {
        cli_error("show", "no item '%s' in the store", key);
        rc = EXIT_NOTFOUND;
    } else if (rc != DP_OK) {
        cli_error("show", "%s", err.msg);
        rc = EXIT_FAIL;
    } else {
        if (json) cli_json_print(to_json(repo_id, &it, &s));
        else print_text(&it, &s);
        rc = EXIT_OK;
    }
    shown_free(&s);
    item_free(&it);
    store_close(st);
    return rc;
}
