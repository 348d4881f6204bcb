/* jira.c -- the converter for Jira REST issue objects (/rest/api/2/issue or
 * one element of a /rest/api/2/search page), with their comments and
 * issue links (see ingest.h).
 */
#include "ingest.h"
#include "ingest_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

char *ingest_jira_project(const char *key)
{
    const char *dash = key ? strrchr(key, '-') : NULL;
    return dash && dash != key ? xstrndup(key, (size_t)(dash - key)) : NULL;
}

/* "HIVE-123": a project key, a dash, a positive number. */
static int parse_key(const char *key, int64_t *number)
{
    const char *dash = strrchr(key, '-');
    if (!dash || dash == key || !isalpha((unsigned char)key[0]) || !dash[1]) return 0;
    for (const char *p = dash + 1; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    if (strlen(dash + 1) > 15) return 0;
    *number = strtoll(dash + 1, NULL, 10);
    return *number > 0;
}

/* Jira Server names people by "name"; Jira Cloud only by displayName. */
static int person(json_t *obj, const char *key, const char *name, char **out, dp_err *err)
{
    if (ij_sub_str(obj, key, "name", name, out, err) != DP_OK) return DP_ERR;
    if (!*out && ij_sub_str(obj, key, "displayName", name, out, err) != DP_OK) return DP_ERR;
    return DP_OK;
}

/* Resolved/Closed/Done or any resolution means closed. */
static void jira_state(item *out, const char *status)
{
    int closed = out->state_reason != NULL;
    if (status && (!strcasecmp(status, "closed") || !strcasecmp(status, "resolved") ||
                   !strcasecmp(status, "done")))
        closed = 1;
    out->state = xstrdup(closed ? "closed" : "open");
}

/* "https://host/jira/rest/api/2/issue/123" -> "https://host/jira/browse/KEY". */
static char *browse_url(const char *self, const char *key)
{
    const char *p = self ? strstr(self, "/rest/api/") : NULL;
    return p ? xasprintf("%.*s/browse/%s", (int)(p - self), self, key) : NULL;
}

/* votes is {"votes": N, ...} in the REST API; a bare number is accepted. */
static int jira_votes(json_t *fields, item *out, dp_err *err)
{
    json_t *v = json_object_get(fields, "votes");
    if (!v || json_is_null(v)) return DP_OK;
    if (json_is_integer(v)) return ij_count_value(json_integer_value(v), "fields.votes", &out->reactions, err);
    if (!json_is_object(v)) return dp_fail(err, "fields.votes: expected object");
    return ij_count(v, "votes", "fields.votes.votes", &out->reactions, err);
}

static int jira_comment(json_t *el, size_t i, const char *key, comment *c, dp_err *err)
{
    char path[64];
    json_t *id;
    if (!json_is_object(el)) return dp_fail(err, "fields.comment.comments[%zu]: expected object", i);
    c->item_key = xstrdup(key);
    id = json_object_get(el, "id");   /* a string of digits in Jira */
    if (json_is_string(id)) c->id = ij_parse_id(json_string_value(id));
    else if (json_is_integer(id)) c->id = json_integer_value(id) > 0 ? json_integer_value(id) : 0;
    if (id && !json_is_null(id) && !c->id)   /* a bad id must not alias another comment */
        return dp_fail(err, "fields.comment.comments[%zu].id: expected a positive id", i);
    snprintf(path, sizeof path, "fields.comment.comments[%zu].author", i);
    if (person(el, "author", path, &c->author, err) != DP_OK) return DP_ERR;
    snprintf(path, sizeof path, "fields.comment.comments[%zu].body", i);
    if (ij_str(el, "body", path, J_OPTIONAL, &c->body, err) != DP_OK) return DP_ERR;
    if (!c->body) c->body = xstrdup("");
    snprintf(path, sizeof path, "fields.comment.comments[%zu].created", i);
    if (ij_time(el, "created", path, &c->created_at, err) != DP_OK) return DP_ERR;
    snprintf(path, sizeof path, "fields.comment.comments[%zu].updated", i);
    if (ij_time(el, "updated", path, &c->updated_at, err) != DP_OK) return DP_ERR;
    if (!c->updated_at) c->updated_at = c->created_at;
    return DP_OK;
}

static int jira_comments(json_t *fields, item *out, comment_vec *comments, dp_err *err)
{
    json_t *c, *arr, *el;
    int total;
    size_t i;
    if (ij_obj(fields, "comment", "fields.comment", &c, err) != DP_OK) return DP_ERR;
    if (!c) return DP_OK;
    if (ij_arr(c, "comments", "fields.comment.comments", &arr, err) != DP_OK ||
        ij_count(c, "total", "fields.comment.total", &total, err) != DP_OK)
        return DP_ERR;
    /* the array holds at most a 16 MiB record's worth, far below INT_MAX */
    out->ncomments = total ? total : (arr ? (int)json_array_size(arr) : 0);
    if (!arr) return DP_OK;
    json_array_foreach(arr, i, el) {
        comment *cm = comments ? comment_vec_push(comments) : NULL;
        comment tmp;
        memset(&tmp, 0, sizeof tmp);
        int rc = jira_comment(el, i, out->key, cm ? cm : &tmp, err);
        comment_free(&tmp);
        if (rc != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

static void add_link(link_vec *links, const char *src, const char *dst, link_type t,
                     const char *source)
{
    item_link *l = link_vec_push(links);
    l->src_key = xstrdup(src);
    l->dst_key = xstrdup(dst);
    l->type = t;
    l->source = xstrdup(source);
}

/* One issuelinks element. For Duplicate the direction follows the link's
 * wording, which is how Jira defines it: "A duplicates B" is written on A as
 * an outwardIssue B (outward text "duplicates") and on B as an inwardIssue A
 * ("is duplicated by"). Instances that swapped the texts are honoured. */
static int jira_link(json_t *el, size_t i, const char *key, link_vec *links, dp_err *err)
{
    char path[64], *tname = NULL, *inward = NULL, *outward = NULL, *other = NULL;
    json_t *type;
    int out_dir, rc = DP_ERR;
    if (!json_is_object(el)) return dp_fail(err, "fields.issuelinks[%zu]: expected object", i);
    snprintf(path, sizeof path, "fields.issuelinks[%zu].type", i);
    if (ij_obj(el, "type", path, &type, err) != DP_OK) return DP_ERR;
    if (type) {
        static const char *const member[3] = {"name", "inward", "outward"};
        char **dst[3] = {&tname, &inward, &outward};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "fields.issuelinks[%zu].type.%s", i, member[k]);
            if (ij_str(type, member[k], path, J_OPTIONAL, dst[k], err) != DP_OK) goto done;
        }
    }
    snprintf(path, sizeof path, "fields.issuelinks[%zu].outwardIssue.key", i);
    if (ij_sub_str(el, "outwardIssue", "key", path, &other, err) != DP_OK) goto done;
    out_dir = other != NULL;
    snprintf(path, sizeof path, "fields.issuelinks[%zu].inwardIssue.key", i);
    if (!other && ij_sub_str(el, "inwardIssue", "key", path, &other, err) != DP_OK) goto done;
    rc = DP_OK;
    if (!other || !strcmp(other, key)) goto done;   /* nothing to link, or itself */
    const char *name = tname ? tname : "link";
    if (!strcasecmp(name, "Duplicate")) {
        const char *text = out_dir ? outward : inward;
        int swapped = text && (out_dir ? !strncasecmp(text, "is duplicated", 13)
                                       : !strcasecmp(text, "duplicates"));
        int this_dups_other = out_dir != swapped;
        add_link(links, this_dups_other ? key : other, this_dups_other ? other : key,
                 LINK_DUPLICATE, "jira:Duplicate");
    } else {
        char *source = xasprintf("jira:%s", name);
        add_link(links, out_dir ? key : other, out_dir ? other : key, LINK_RELATED, source);
        free(source);
    }
done:
    free(tname);
    free(inward);
    free(outward);
    free(other);
    return rc;
}

static int jira_links(json_t *fields, const char *key, link_vec *links, dp_err *err)
{
    json_t *arr, *el;
    size_t i;
    if (ij_arr(fields, "issuelinks", "fields.issuelinks", &arr, err) != DP_OK) return DP_ERR;
    if (!arr || !links) return DP_OK;
    json_array_foreach(arr, i, el) {
        if (jira_link(el, i, key, links, err) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

int ingest_jira_item(json_t *obj, item *out, comment_vec *comments, link_vec *links, dp_err *err)
{
    json_t *fields;
    char *status = NULL, *self = NULL;
    int rc = DP_ERR;
    item_init(out);
    if (!json_is_object(obj)) return dp_fail(err, "expected a JSON object");
    if (ij_str(obj, "key", "key", J_REQUIRED, &out->key, err) != DP_OK) return DP_ERR;
    if (!parse_key(out->key, &out->number))
        return dp_fail(err, "key: expected PROJECT-123, got \"%.40s\"", out->key);
    if (ij_obj(obj, "fields", "fields", &fields, err) != DP_OK) return DP_ERR;
    if (!fields) return dp_fail(err, "fields: missing");
    if (ij_str(fields, "summary", "fields.summary", J_OPTIONAL, &out->title, err) != DP_OK ||
        ij_str(fields, "description", "fields.description", J_OPTIONAL, &out->body, err) != DP_OK ||
        ij_sub_str(fields, "status", "name", "fields.status", &status, err) != DP_OK ||
        ij_sub_str(fields, "resolution", "name", "fields.resolution", &out->state_reason, err) != DP_OK ||
        person(fields, "reporter", "fields.reporter", &out->author, err) != DP_OK ||
        ij_time(fields, "created", "fields.created", &out->created_at, err) != DP_OK ||
        ij_time(fields, "updated", "fields.updated", &out->updated_at, err) != DP_OK ||
        ij_time(fields, "resolutiondate", "fields.resolutiondate", &out->closed_at, err) != DP_OK ||
        ij_names(fields, "labels", NULL, "fields.labels", &out->labels, err) != DP_OK ||
        ij_names(fields, "components", "name", "fields.components", &out->components, err) != DP_OK ||
        ij_names(fields, "versions", "name", "fields.versions", &out->versions, err) != DP_OK ||
        ij_sub_str(fields, "issuetype", "name", "fields.issuetype", &out->type, err) != DP_OK ||
        ij_sub_str(fields, "priority", "name", "fields.priority", &out->priority, err) != DP_OK ||
        jira_votes(fields, out, err) != DP_OK ||
        ij_str(obj, "self", "self", J_OPTIONAL, &self, err) != DP_OK)
        goto done;
    if (!out->title) out->title = xstrdup("");
    if (!out->body) out->body = xstrdup("");
    jira_state(out, status);
    out->url = browse_url(self, out->key);
    if (jira_comments(fields, out, comments, err) != DP_OK ||
        jira_links(fields, out->key, links, err) != DP_OK)
        goto done;
    rc = DP_OK;
done:
    free(status);
    free(self);
    return rc;
}
