/* ingest.h -- reading tracker exports into the store.
 *
 * ingest_file() detects the format of one file (GitHub REST issues as JSON
 * arrays or NDJSON, `gh issue/pr list --json` output, GitHub comment objects,
 * Jira search pages or per-line issue objects; gzip read transparently but
 * strictly: a truncated or damaged .gz, or bytes after its last member that
 * are not another member, is an error -- see common/zread.h),
 * streams it record by record (memory does not grow with file size) and
 * writes items, comments, label colours and extracted links through the
 * store API. It does not begin/commit: the caller wraps all files of one
 * import in one transaction and rolls back on error, so a bad file leaves
 * the store exactly as before.
 *
 * Errors name the file and the line and byte offset of the bad record:
 *   "issues.json:12 (byte 40213): title: expected string".
 * Lines are 1-based, bytes 0-based offsets into the uncompressed stream.
 *
 * The per-object converters are public so `doppel sync` can reuse them on
 * API pages it fetched itself. They never touch the store; they fill the
 * caller's structs (which the caller frees, also after an error).
 *
 * Records of the GitHub shapes are parsed by yajl into the members their
 * converter reads (pick.c); anything yajl and jansson could judge apart,
 * and every record that fails, takes jansson's full parse, so the errors
 * are jansson's and the converters' as they always were.
 *
 * Nothing here keeps global state; one splitter or one ingest_file call is
 * used by one thread at a time. ingest_file runs a reader and two parser
 * threads of its own and makes every store call on the caller's thread, in
 * file order, so the store needs no locking.
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
/* Guesses the format of one parsed record: `key`+`fields` = jira, `issue_url`
 * = comments, `createdAt` = gh, `number`+(`node_id`|`html_url`) = github.
 * Returns INGEST_AUTO when it cannot tell. */
ingest_format ingest_format_detect(json_t *obj);

/* One JSON record; larger is an error. The biggest real record in the shared
 * Apache Jira data (an issue with all its comments) is 3 MB and GitHub caps a
 * body at 64 K characters, so 16 MiB is generous while keeping the splitter's
 * buffer (and jansson's copy of it) small. */
#define INGEST_MAX_RECORD (16u << 20)

/* Called now and then while a file is read; done/total are bytes of the file
 * as stored (compressed for .gz); total is 0 when unknown (stdin). */
typedef void (*ingest_progress_fn)(void *ctx, const char *path, uint64_t done, uint64_t total);

/* Called for input that is imported but looks wrong: a date from a wrong
 * clock (see future_dated below), a file without any record. msg reads
 * like an error ("issues.json:12 (byte 40213): item 7: updated ... is
 * ...") and is valid during the call only. */
typedef void (*ingest_warn_fn)(void *ctx, const char *msg);

typedef struct ingest_opts {
    ingest_format format;
    const char *repo;      /* --repo; NULL = from the data (repository_url / Jira project) */
    ingest_progress_fn progress;   /* may be NULL */
    void *progress_ctx;
    ingest_warn_fn warn;   /* may be NULL */
    void *warn_ctx;
    int64_t now;           /* the clock dates are judged by; 0 = time(NULL) */
} ingest_opts;

/* Counters are added to (not reset), so one struct can sum several files.
 * items/comments count records read; items_written counts rows the store
 * actually changed (0 on an idempotent re-import); links counts links
 * handed to the store; bytes is uncompressed input.
 * future_dated counts items and comments with a date more than
 * STORE_FUTURE_SLACK past opts->now: a wrong clock at the tracker or in an
 * export. They are stored as given -- the data is the tracker's, and the
 * store's change sequence keeps such a date from hiding later edits -- and
 * each one is reported through opts->warn. */
typedef struct ingest_stats {
    size_t items, items_written, comments, links, bytes, future_dated;
    /* Where an import's time goes, in thread CPU seconds: reading (inflate
     * and split), parsing and converting (all parser threads), and the
     * store writes (the caller's thread, which bounds the import). */
    double cpu_read, cpu_parse, cpu_write;
} ingest_stats;

/* path "-" reads standard input. */
int ingest_file(store *st, const char *path, const ingest_opts *opts, ingest_stats *stats,
                dp_err *err);

/* ---- the streaming splitter ---------------------------------------------
 * Cuts a byte stream into top-level JSON objects without parsing them: one
 * object, objects inside a top-level array, several arrays one after another
 * (concatenated API pages), or one object per line (NDJSON), with any
 * whitespace between. A wrapper object whose "issues" or "items" member is an
 * array (a Jira search page, a GitHub search result) yields the objects of
 * that array; its other members are skipped. A small state machine tracks
 * strings, escapes and depth; validation of a record is left to jansson.
 * Memory is one read buffer plus the largest record. */
typedef struct ingest_split ingest_split;

typedef struct ingest_record {
    const char *data;      /* the object's bytes; valid until the next call */
    size_t len;
    size_t line;           /* line of its opening brace, 1-based */
    uint64_t offset;       /* byte offset of its opening brace, 0-based */
} ingest_record;

/* Opens path (gzip or plain; "-" = stdin). A damaged gzip stream shows up
 * as a DP_ERR from ingest_split_next when the reader reaches it. */
int ingest_split_open(const char *path, ingest_split **out, dp_err *err);
/* Splits a buffer the caller keeps alive until ingest_split_close. */
ingest_split *ingest_split_mem(const char *data, size_t len);
/* DP_OK with *rec filled, DP_NOTFOUND at the clean end of input, DP_ERR on
 * malformed or truncated input (err->msg without position; see _where). */
int ingest_split_next(ingest_split *sp, ingest_record *rec, dp_err *err);
/* Line and byte offset the last error refers to. */
void ingest_split_where(const ingest_split *sp, size_t *line, uint64_t *offset);
/* Uncompressed bytes consumed so far, and the position in the underlying
 * file (compressed bytes for gzip), for progress. */
uint64_t ingest_split_bytes(const ingest_split *sp);
uint64_t ingest_split_raw_offset(const ingest_split *sp);
void ingest_split_close(ingest_split *sp);    /* NULL ok */

/* ---- converters ----------------------------------------------------------
 * They validate types (and that strings hold no NUL) and fail with a message
 * naming the field ("title: expected string"). The repository name found in
 * the object (if any) goes to *repo_name (owned, may be NULL). */

/* A REST issue or pull request (pull requests carry "pull_request"). A merged
 * pull request gets state_reason "merged". */
int ingest_github_item(json_t *obj, item *out, char **repo_name, dp_err *err);
/* A `gh issue list` / `gh pr list --json` object (camelCase, OPEN/CLOSED/
 * MERGED). A pull request is recognised by "/pull/" in its url. When the
 * object carries a "comments" array and comments is non-NULL, they are
 * appended there. */
int ingest_gh_item(json_t *obj, item *out, comment_vec *comments, char **repo_name,
                   dp_err *err);
/* A REST issue comment; the item number comes from issue_url. */
int ingest_github_comment(json_t *obj, comment *out, char **repo_name, dp_err *err);
/* Label names and colours of a REST or gh object (colour NULL -> not added). */
void ingest_github_label_colors(json_t *obj, strvec *names, strvec *colors);
/* A Jira issue: comments from fields.comment.comments and links from
 * fields.issuelinks (Duplicate -> LINK_DUPLICATE in the right direction,
 * others -> LINK_RELATED with source "jira:<type name>") are appended. */
int ingest_jira_item(json_t *obj, item *out, comment_vec *comments, link_vec *links, dp_err *err);
/* The repository of a Jira key: "HIVE-123" -> "HIVE" (owned; NULL if no '-'). */
char *ingest_jira_project(const char *key);

/* Known links found in text: "Duplicate of #N", "dup of #N", "closing as
 * duplicate of #N", full issue URLs of the same repo, "fixes/closes/resolves
 * #N" (LINK_FIXES, only in a pull request's body, i.e. source "body": GitHub
 * ignores closing keywords in comments), other "#N" mentions (LINK_RELATED).
 * "is duplicated by #N" gives N -> src. A hedged or negated duplicate
 * ("possible duplicate of #N", "not a duplicate of #N") is only related.
 * References inside code spans and fenced code blocks, to other repositories,
 * glued to a word ("C#1") and to src itself are ignored; each target is
 * linked at most once per text, with its strongest type.
 * src is the key of the item whose body/comment this is; repo_name (may be
 * NULL) lets full URLs and "owner/name#N" of the same repository resolve.
 * source is stored in the links ("body", "comment"). Appends to out. */
void ingest_links_from_text(const char *src_key, item_kind src_kind, const char *text,
                            const char *repo_name, const char *source, link_vec *out);

#endif
