/* links.c -- known links written in issue text: "Duplicate of #12",
 * "fixes #7", full issue URLs, plain "#N" mentions, Jira keys of the same
 * project (see ingest.h). Finding and classifying the references is
 * text_refs_scan's job (text/refs.c); this file turns them into links.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/text.h"

static link_type type_of(text_ref_kind k)
{
    switch (k) {
    case TEXT_REF_DUP:
    case TEXT_REF_DUP_BY: return LINK_DUPLICATE;
    case TEXT_REF_FIXES: return LINK_FIXES;
    default: return LINK_RELATED;
    }
}

/* "HIVE-123" -> "HIVE" in buf; 0 when key is not a Jira key. */
static int jira_project(const char *key, char *buf, size_t n)
{
    const char *dash = strrchr(key, '-');
    if (!dash || dash == key || (size_t)(dash - key) >= n) return 0;
    memcpy(buf, key, (size_t)(dash - key));
    buf[dash - key] = '\0';
    return 1;
}

void ingest_links_from_text(const char *src_key, item_kind src_kind, const char *text,
                            const char *repo_name, const char *source, link_vec *out)
{
    if (!text || !src_key || !*text) return;
    char project[64];
    int jira = jira_project(src_key, project, sizeof project);
    /* GitHub honours closing keywords only in a pull request's own
     * description (and commits), never in comments. */
    text_refs_opts o = {.numeric = !jira, .bare = !jira, .jira = jira,
                        .closing = src_kind == ITEM_PR && source && !strcmp(source, "body"),
                        .repo = repo_name, .projects = jira ? project : NULL};
    text_refs rs = {0};
    text_refs_scan(text, &o, &rs);
    for (size_t i = 0; i < rs.n; i++) {
        const char *key = rs.v[i].key;
        if (!strcmp(key, src_key)) continue;   /* self-reference */
        item_link *l = link_vec_push(out);
        int rev = rs.v[i].kind == TEXT_REF_DUP_BY;
        l->src_key = xstrdup(rev ? key : src_key);
        l->dst_key = xstrdup(rev ? src_key : key);
        l->type = type_of(rs.v[i].kind);
        l->source = xstrdup(source);
    }
    text_refs_free(&rs);
}
