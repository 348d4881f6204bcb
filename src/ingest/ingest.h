/* ingest.h -- reading tracker exports into the store.
 *
 * ingest_file() detects the format of one file (GitHub REST issues as JSON
 * arrays or NDJSON, `gh issue/pr list --json` output, GitHub comment objects,
 * Jira search pages or per-line issue objects; gzip read transparently),
 * streams it record by record (memory does not grow with file size) and
 * writes items, comments, label colours and extracted links through the
 * store API. It does not begin/commit: the caller wraps all files of one
 * import in one transaction and rolls back on error, so a bad file leaves
 * the store exactly as before.
 *
 * Errors name the file and the line and byte offset of the bad record.
 *
 * The per-object converters are public so `doppel sync` can reuse them on
 * API pages it fetched itself.
 */
#ifndef DP_INGEST_H
#define DP_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "../common/item.h"
#include "../store/store.h"

typedef enum {
    INGEST_AUTO = 0,
    INGEST_GITHUB,      /* REST issue objects (array pages or NDJSON) */
    INGEST_GH_CLI,      /* gh issue/pr list --json ... */
    INGEST_COMMENTS,    /* REST issue comment objects */
    INGEST_JIRA         /* Jira REST issues (search pages or NDJSON) */
} ingest_format;

int ingest_format_parse(const char *name, ingest_format *out);   /* "github", "gh", "comments", "jira" */
const char *ingest_format_name(ingest_format f);

#define INGEST_MAX_RECORD (64u << 20)   /* one JSON record; larger is an error */

typedef struct ingest_opts {
    ingest_format format;
    const char *repo;      /* --repo; NULL = from the data (repository_url / Jira project) */
} ingest_opts;

typedef struct ingest_stats {
    size_t items, items_written, comments, links, bytes;
} ingest_stats;

int ingest_file(store *st, const char *path, const ingest_opts *opts, ingest_stats *stats,
                dp_err *err);

/* Converters. They validate types and UTF-8 and fail with a message naming
 * the field. The repository name found in the object (if any) goes to
 * *repo_name (owned, may be NULL). */
int ingest_github_item(json_t *obj, item *out, char **repo_name, dp_err *err);
int ingest_github_comment(json_t *obj, comment *out, char **repo_name, dp_err *err);
int ingest_jira_item(json_t *obj, item *out, comment_vec *comments, link_vec *links, dp_err *err);

/* Known links found in text: "Duplicate of #N", "dup of #N", "closing as
 * duplicate of #N", full issue URLs of the same repo, "fixes/closes/resolves
 * #N" (for pull requests: LINK_FIXES), other "#N" mentions (LINK_RELATED).
 * src is the key of the item whose body/comment this is; repo_name (may be
 * NULL) lets full URLs of the same repository resolve. Appends to out. */
void ingest_links_from_text(const char *src_key, item_kind src_kind, const char *text,
                            const char *repo_name, const char *source, link_vec *out);
/* Links implied by an item's own fields (state_reason duplicate without a
 * target gives none; Jira resolution is carried by issuelinks). */

#endif
