/* store_schema.c -- the SQLite schema as a list of forward migrations.
 *
 * store_migrations[i] takes a database from user_version i to i+1; store_open
 * applies the missing steps in order, each inside one transaction together
 * with the user_version bump, so a crash leaves a whole version or none.
 * Never edit a released step: append a new one.
 *
 * Design notes:
 *  - Items are addressed by (repo_id, key). Label, component and version
 *    lists are stored as JSON arrays of strings on the item (one read loads
 *    the whole item); labels are also mirrored in item_labels, from which
 *    the pair filter takes the set of items carrying label X.
 *  - Pairs and links refer to items by key rather than row id: analysis may
 *    name items that a later import only fills in, and keys are what users
 *    see. Lookups go through the unique (repo_id, key) index.
 *  - pairs.id is AUTOINCREMENT so a replaced pair never reuses the id of a
 *    deleted one: a web page holding an old id gets "not found", not a
 *    different pair.
 *  - pairs.updated_at copies the later updated_at of the pair's two items
 *    (set on insert, raised by store_item_upsert), so "most recently
 *    updated first" is an index walk, not a join and sort of every pair.
 *  - Verdicts are keyed by (repo, query key, candidate key), not pair id,
 *    so they survive re-analysis.
 *  - Cache blobs (derived data such as a serialised index) came with
 *    version 3 as a step of their own: databases at version 2 exist, and
 *    editing step 2 would leave them without the table. They are split
 *    into parts (SQLite values stop at 1 GB), one row per part, in a rowid
 *    table because WITHOUT ROWID suits only small rows. No foreign key:
 *    repo 0 means global, as for models.
 *  - items.changed_seq (version 4) is a per-repository change counter:
 *    every insert, accepted newer copy and deletion mark gives the item
 *    MAX(changed_seq) + 1 of its repository (an index seek on
 *    items_by_seq). Incremental analysis asks "which items changed since
 *    sequence N", which no date from a tracker can disturb: with the
 *    max(updated_at) watermark it used before, one item dated 9999-12-31
 *    hid every later edit. The migration numbers existing items in
 *    updated_at order.
 *  - actions (version 5) is the audit of what doppel wrote to GitHub
 *    (`apply`, `triage`, undo): one row per request, inserted as an intent
 *    ("pending") BEFORE the request is sent and completed with GitHub's
 *    answer after, so a run killed in between leaves a pending row that the
 *    next run reconciles (it re-reads GitHub before sending again). The
 *    partial unique index actions_once is the last guard against recording
 *    one write twice: a unit (a pair, a triaged issue) has at most one live
 *    comment, closure, label and decision per target; failed and undone
 *    rows do not count, so a re-confirmed verdict can try again.
 *    apply_queue holds the verdicts a reviewer queued for GitHub; keyed
 *    like verdicts, so it survives re-analysis too.
 *  - items_fts (version 7) indexes the key and title of every item by
 *    trigrams (FTS5). The review page's free-text filter is a
 *    case-insensitive substring of either title or key; a trigram phrase
 *    query answers exactly that for texts of 3 characters or more from the
 *    index, where LIKE read every title (0.75 s at 250k items). Shorter
 *    texts keep the LIKE scan: they have no trigram.
 *    Triggers on items do not write the index itself: they note the item
 *    in items_fts_todo, and store_commit (and an upsert outside a
 *    transaction) brings the index up to date for the noted items in
 *    one statement. FTS5 flushes its pending terms at every savepoint, and
 *    every store write is one: written row by row from the triggers, the
 *    index doubled the CPU time of an import. A text query reads the index
 *    for the items not noted and LIKE over the few noted ones, so it is
 *    right at any moment. The index keeps its own copy of the titles
 *    (about 1% of a store), so an item can be taken out by id alone.
 *    A first import (bulk mode, no items yet) builds the index on a
 *    thread of its own in a private database and copies its tables in
 *    at commit (store_fts.c): tokenising was half of the writer's time.
 *  - pair_counts (version 8) holds how many pairs each repository has per
 *    relation, confidence and known flag, kept by triggers on pairs, so
 *    the review page's count of an unfiltered (or relation, confidence or
 *    known filtered) list is a sum over a few rows, not a read of every
 *    pair (1.1 s at 512k pairs), and stays so after every write. Triggers
 *    rather than the store's write paths, so that every writer -- a
 *    repository's deletion cascading, a script's INSERT -- keeps it
 *    right. Reviewed counts are not in it: they come from the verdicts,
 *    which are few, and a verdict then touches no counter.
 *  - items_keys_by_id (version 9) holds (id, repo_id, key) of every item.
 *    The text filter turns the item ids of the trigram index into (repo,
 *    key) to find their pairs; read from the items rows, which share
 *    their pages with the bodies, that was one page per matching item
 *    (1,928 for "timeout" at 250k items, the larger part of the first
 *    request's time on a fresh handle); this index packs a hundred items
 *    a page. It is appended to in id order, so an import barely pays.
 *  - pairs_by_query, pairs_by_cand and pairs_filter (version 10) carry
 *    every pair column a filter tests and the three sort keys, so the set
 *    of pairs holding a text (reached from its items by key) or of a rare
 *    relation and confidence is counted, tested, sorted and cut to a page
 *    from these indexes alone; only the page's rows are read. Walking a
 *    sort index instead read one wide row (about 1.6 KB) per pair passed:
 *    5,800 for the first page of "timeout" at 621k pairs, every pair for a
 *    text or class whose pairs sort last. pairs_by_query repeats the
 *    unique (repo_id, query_key, cand_key) index with those columns added.
 *  - pair_texts (version 11) holds the long texts of a pair (reasoning,
 *    value detail, suggested comment: about 850 of a pair's 1,000 bytes),
 *    keyed by the pair's id; pairs keeps the short columns. A full
 *    analysis writes every pair of a repository and then builds nine
 *    indexes, each a scan of the whole table: over the wide rows that was
 *    745 MB read nine times at 250k items, now about 90 MB. A page reads
 *    its 50 texts by id. The texts of a pair go with it (a trigger, so that
 *    a repository's deletion cascading or a script's DELETE keeps them
 *    right); a pair without texts has no row. The view pairs_full shows
 *    the pairs as they were before, one row with every column, for scripts
 *    and comparisons.
 *  - items_fts (version 12) keeps no positions (detail=none): a quarter
 *    of the size (17 against 70 MB at 250k items) and less work to build,
 *    which a first import does on its side thread (about 0.6 of 13 CPU
 *    seconds at 250k items, and its commit copies 53 MB less). Without
 *    positions FTS5 runs no phrase query; the text filter asks the index
 *    for the items holding every trigram of the text and keeps those that
 *    hold them one after the other in the key or the title, by the same
 *    tokenizer (dp_fts_has, store_fts.c): the rows a phrase query gave.
 *  - links_typed (version 13) is a partial index of the links a Jira
 *    export typed ("jira:..." sources), by repository: every reader of a
 *    sparse corpus (`similar`, an incremental analyze, serve's similar
 *    search) asks whether a repository has any (store_links_any_typed),
 *    which scanned every link without it (48 ms at 68k links, a sixth of a
 *    `similar` from the shell); a GitHub repository has none, so the
 *    index is empty and the answer one seek.
 *  - items_fts (version 14) tokenizes by dp_trigram: FTS5's trigram
 *    tokenizer with a byte hashed from each token after it, so that FTS5's
 *    in-memory hash of the tokens an import adds, weak for three-byte keys,
 *    spreads them (store_fts.c). Its rows match what they matched; a
 *    connection needs the tokenizer registered (store_fts_tokenizer) to
 *    touch the table, so the sqlite3 shell reads the titles from items.
 *  - pairs_all_by_* (version 15) exist only while more than one
 *    repository has pairs. With one, a page of every repository is a page
 *    of that one (the store reads it so, through pairs_by_*), and the
 *    three indexes were only written: a third of the pages a 20-new-items
 *    analysis wrote at 250k items, three of the nine index builds of a
 *    full one. The end of every write of pairs through the store makes or
 *    drops them (store_pairs_all_sync); a script's INSERT of a second
 *    repository's pairs leaves them missing until the next such write,
 *    which costs a sort, never a wrong page.
 */

#include "store_int.h"

/* The triggers that keep pair_counts (version 8; made again by version 11,
 * which rebuilds pairs). */
#define PAIR_COUNTS_TRIGGERS \
    "CREATE TRIGGER pair_counts_insert AFTER INSERT ON pairs BEGIN" \
    "  INSERT INTO pair_counts(repo_id, relation, confidence, known, n)" \
    "  VALUES(new.repo_id, new.relation, new.confidence, new.known, 1)" \
    "  ON CONFLICT(repo_id, relation, confidence, known) DO UPDATE SET n = n + 1; END;" \
    "CREATE TRIGGER pair_counts_delete AFTER DELETE ON pairs BEGIN" \
    "  UPDATE pair_counts SET n = n - 1 WHERE repo_id = old.repo_id AND relation = old.relation" \
    "    AND confidence = old.confidence AND known = old.known;" \
    "  DELETE FROM pair_counts WHERE repo_id = old.repo_id AND relation = old.relation" \
    "    AND confidence = old.confidence AND known = old.known AND n <= 0; END;" \
    "CREATE TRIGGER pair_counts_update AFTER UPDATE OF repo_id, relation, confidence, known ON pairs" \
    "  WHEN new.repo_id IS NOT old.repo_id OR new.relation IS NOT old.relation" \
    "    OR new.confidence IS NOT old.confidence OR new.known IS NOT old.known BEGIN" \
    "  UPDATE pair_counts SET n = n - 1 WHERE repo_id = old.repo_id AND relation = old.relation" \
    "    AND confidence = old.confidence AND known = old.known;" \
    "  DELETE FROM pair_counts WHERE repo_id = old.repo_id AND relation = old.relation" \
    "    AND confidence = old.confidence AND known = old.known AND n <= 0;" \
    "  INSERT INTO pair_counts(repo_id, relation, confidence, known, n)" \
    "  VALUES(new.repo_id, new.relation, new.confidence, new.known, 1)" \
    "  ON CONFLICT(repo_id, relation, confidence, known) DO UPDATE SET n = n + 1; END;"

const char *const store_migrations[] = {
    /* 0 -> 1: the initial schema. */
    "CREATE TABLE repositories("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL DEFAULT 'github',"
    "  url TEXT);"

    /* Small columns first, title next, body last: filters that read
     * state, dates or title then never walk a long body's overflow pages. */
    "CREATE TABLE items("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  number INTEGER NOT NULL DEFAULT 0,"
    "  kind INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT,"
    "  created_at INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL DEFAULT 0,"
    "  closed_at INTEGER NOT NULL DEFAULT 0,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  ncomments INTEGER NOT NULL DEFAULT 0,"
    "  reactions INTEGER NOT NULL DEFAULT 0,"
    "  state_reason TEXT,"
    "  author TEXT,"
    "  type TEXT,"
    "  priority TEXT,"
    "  url TEXT,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  labels TEXT NOT NULL DEFAULT '[]',"
    "  components TEXT NOT NULL DEFAULT '[]',"
    "  versions TEXT NOT NULL DEFAULT '[]',"
    "  body TEXT NOT NULL DEFAULT '',"
    "  UNIQUE(repo_id, key));"
    "CREATE INDEX items_by_created ON items(repo_id, created_at, number, key);"
    "CREATE INDEX items_by_updated ON items(repo_id, updated_at);"

    "CREATE TABLE item_labels("
    "  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  PRIMARY KEY(item_id, name)) WITHOUT ROWID;"
    "CREATE INDEX item_labels_by_name ON item_labels(name);"

    "CREATE TABLE comments("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  item_key TEXT NOT NULL,"
    "  tracker_id INTEGER,"             /* NULL when the tracker has none */
    "  author TEXT,"
    "  body TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX comments_by_tracker ON comments(repo_id, tracker_id);"
    "CREATE INDEX comments_by_item ON comments(repo_id, item_key, created_at);"

    "CREATE TABLE links("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  src_key TEXT NOT NULL,"
    "  dst_key TEXT NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  source TEXT,"
    "  UNIQUE(repo_id, src_key, dst_key, type));"
    "CREATE INDEX links_by_dst ON links(repo_id, dst_key);"

    "CREATE TABLE labels("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  color TEXT,"
    "  PRIMARY KEY(repo_id, name)) WITHOUT ROWID;"

    "CREATE TABLE pairs("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  query_key TEXT NOT NULL,"
    "  cand_key TEXT NOT NULL,"
    "  rank INTEGER NOT NULL DEFAULT 0,"
    "  score REAL NOT NULL DEFAULT 0,"
    "  prob REAL NOT NULL DEFAULT 0,"
    "  relation TEXT NOT NULL,"
    "  confidence TEXT NOT NULL,"
    "  value REAL NOT NULL DEFAULT 0,"
    "  reasoning TEXT,"
    "  value_detail TEXT,"
    "  suggested_comment TEXT,"
    "  known INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL DEFAULT 0,"  /* later update of its two items */
    "  UNIQUE(repo_id, query_key, cand_key));"
    "CREATE INDEX pairs_by_value ON pairs(repo_id, value DESC, id);"
    "CREATE INDEX pairs_by_prob ON pairs(repo_id, prob DESC, id);"
    "CREATE INDEX pairs_by_updated ON pairs(repo_id, updated_at DESC, id);"
    "CREATE INDEX pairs_by_cand ON pairs(repo_id, cand_key);"

    "CREATE TABLE verdicts("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  query_key TEXT NOT NULL,"
    "  cand_key TEXT NOT NULL,"
    "  verdict TEXT NOT NULL CHECK (verdict IN ('duplicate','related','not_related')),"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY(repo_id, query_key, cand_key)) WITHOUT ROWID;"

    /* repo_id 0 is the global model, so no foreign key here. */
    "CREATE TABLE models("
    "  repo_id INTEGER PRIMARY KEY,"
    "  text TEXT NOT NULL,"
    "  trained_at INTEGER NOT NULL,"
    "  ntrain INTEGER NOT NULL);"

    "CREATE TABLE kv("
    "  repo_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(repo_id, key)) WITHOUT ROWID;",

    /* 1 -> 2: indexes for the review page over every repository at once.
     *  - pairs_all_by_*: the three sort orders without the repo prefix, so
     *    a page or a neighbour lookup across repositories walks an index
     *    instead of sorting every pair.
     *  - pairs_filter covers every pair column a filter or count reads
     *    (the item conditions probe by query_key / cand_key), so counting
     *    reads this narrow index, never the wide rows with their reasoning
     *    and comment text. */
    "CREATE INDEX pairs_all_by_value ON pairs(value DESC, id);"
    "CREATE INDEX pairs_all_by_prob ON pairs(prob DESC, id);"
    "CREATE INDEX pairs_all_by_updated ON pairs(updated_at DESC, id);"
    "CREATE INDEX pairs_filter ON pairs(repo_id, relation, confidence, known, query_key, cand_key);",

    /* 2 -> 3: derived-data cache blobs, part 0..n-1 of each (repo, name). */
    "CREATE TABLE caches("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  part INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  UNIQUE(repo_id, name, part));",

    /* 3 -> 4: the item change sequence (see the design notes). */
    "ALTER TABLE items ADD COLUMN changed_seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE items SET changed_seq = s.n FROM ("
    "  SELECT id, row_number() OVER (PARTITION BY repo_id ORDER BY updated_at, id) AS n FROM items) AS s "
    "WHERE items.id = s.id;"
    "CREATE INDEX items_by_seq ON items(repo_id, changed_seq);",

    /* 4 -> 5: the audit of GitHub writes and the apply queue (see the
     * design notes). */
    "CREATE TABLE actions("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  source TEXT NOT NULL,"
    "  unit TEXT NOT NULL,"
    "  query_key TEXT,"
    "  cand_key TEXT,"
    "  verdict TEXT,"
    "  verdict_at INTEGER NOT NULL DEFAULT 0,"
    "  kind TEXT NOT NULL,"
    "  target TEXT NOT NULL DEFAULT '',"
    "  arg TEXT,"
    "  method TEXT,"
    "  path TEXT,"
    "  body TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('pending','done','failed','undone')),"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  gh_id INTEGER NOT NULL DEFAULT 0,"
    "  gh_time INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  undo_of INTEGER REFERENCES actions(id),"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX actions_by_unit ON actions(repo_id, unit, id);"
    "CREATE INDEX actions_by_target ON actions(repo_id, target, id);"
    "CREATE UNIQUE INDEX actions_once ON actions(repo_id, unit, kind, target) "
    "  WHERE undo_of IS NULL AND state IN ('pending','done') AND kind IN ('comment','close','label','decided');"
    "CREATE UNIQUE INDEX actions_undo_once ON actions(undo_of) "
    "  WHERE undo_of IS NOT NULL AND state IN ('pending','done');"

    "CREATE TABLE apply_queue("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  query_key TEXT NOT NULL,"
    "  cand_key TEXT NOT NULL,"
    "  queued_at INTEGER NOT NULL,"
    "  PRIMARY KEY(repo_id, query_key, cand_key)) WITHOUT ROWID;",

    /* 5 -> 6: the judgment's advice on a pair: the item its suggested
     * comment is meant for, and the canonical item of its duplicate
     * cluster (may be a third item). */
    "ALTER TABLE pairs ADD COLUMN comment_on TEXT; ALTER TABLE pairs ADD COLUMN canonical TEXT;",

    /* 6 -> 7: the text filter of the review page through an index (see the
     * design notes). */
    "CREATE VIRTUAL TABLE items_fts USING fts5(key, title, tokenize='trigram', columnsize=0);"
    "INSERT INTO items_fts(rowid, key, title) SELECT id, key, title FROM items;"
    "CREATE TABLE items_fts_todo(id INTEGER PRIMARY KEY);"
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
    "  INSERT OR IGNORE INTO items_fts_todo(id) VALUES(new.id); END;"
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
    "  INSERT OR IGNORE INTO items_fts_todo(id) VALUES(old.id); END;"
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF key, title ON items"
    "  WHEN new.key IS NOT old.key OR new.title IS NOT old.title BEGIN"
    "  INSERT OR IGNORE INTO items_fts_todo(id) VALUES(old.id); END;",

    /* 7 -> 8: pair counts kept by triggers (see the design notes). A row
     * whose count drops to 0 is removed, so the table holds only what
     * exists. */
    "CREATE TABLE pair_counts("
    "  repo_id INTEGER NOT NULL,"
    "  relation TEXT NOT NULL,"
    "  confidence TEXT NOT NULL,"
    "  known INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY(repo_id, relation, confidence, known)) WITHOUT ROWID;"
    "INSERT INTO pair_counts(repo_id, relation, confidence, known, n)"
    "  SELECT repo_id, relation, confidence, known, COUNT(*) FROM pairs"
    "  GROUP BY repo_id, relation, confidence, known;"
    PAIR_COUNTS_TRIGGERS,

    /* 8 -> 9: the text filter's items by id without their rows (see the
     * design notes). */
    "CREATE INDEX items_keys_by_id ON items(id, repo_id, key);",

    /* 9 -> 10: pair indexes that answer a filter without the rows (see
     * the design notes). */
    "DROP INDEX pairs_by_cand;"
    "CREATE INDEX pairs_by_cand ON pairs(repo_id, cand_key, query_key, relation, confidence, known,"
    "  value, prob, updated_at);"
    "CREATE INDEX pairs_by_query ON pairs(repo_id, query_key, cand_key, relation, confidence, known,"
    "  value, prob, updated_at);"
    "DROP INDEX pairs_filter;"
    "CREATE INDEX pairs_filter ON pairs(repo_id, relation, confidence, known, query_key, cand_key,"
    "  value, prob, updated_at);",

    /* 10 -> 11: the long texts of a pair in pair_texts, pairs rebuilt
     * without them (see the design notes). The rebuilt table keeps every
     * id and the AUTOINCREMENT high-water mark (a deleted pair's id stays
     * unused); dropping the old table drops its indexes and triggers, which
     * are made again as version 10 had them. */
    "CREATE TABLE pair_texts("
    "  id INTEGER PRIMARY KEY,"   /* the pair's id */
    "  reasoning TEXT,"
    "  value_detail TEXT,"
    "  suggested_comment TEXT);"
    "INSERT INTO pair_texts(id, reasoning, value_detail, suggested_comment)"
    "  SELECT id, reasoning, value_detail, suggested_comment FROM pairs"
    "  WHERE reasoning IS NOT NULL OR value_detail IS NOT NULL OR suggested_comment IS NOT NULL;"
    "CREATE TABLE pairs_v11("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  query_key TEXT NOT NULL,"
    "  cand_key TEXT NOT NULL,"
    "  rank INTEGER NOT NULL DEFAULT 0,"
    "  score REAL NOT NULL DEFAULT 0,"
    "  prob REAL NOT NULL DEFAULT 0,"
    "  relation TEXT NOT NULL,"
    "  confidence TEXT NOT NULL,"
    "  value REAL NOT NULL DEFAULT 0,"
    "  known INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL DEFAULT 0,"
    "  comment_on TEXT,"
    "  canonical TEXT,"
    "  UNIQUE(repo_id, query_key, cand_key));"
    "INSERT INTO pairs_v11(id, repo_id, query_key, cand_key, rank, score, prob, relation, confidence, value,"
    "  known, updated_at, comment_on, canonical)"
    "  SELECT id, repo_id, query_key, cand_key, rank, score, prob, relation, confidence, value,"
    "  known, updated_at, comment_on, canonical FROM pairs ORDER BY id;"
    "DELETE FROM sqlite_sequence WHERE name = 'pairs_v11';"
    "INSERT INTO sqlite_sequence(name, seq) SELECT 'pairs_v11', seq FROM sqlite_sequence WHERE name = 'pairs';"
    "DROP TABLE pairs;"
    "ALTER TABLE pairs_v11 RENAME TO pairs;"
    "CREATE INDEX pairs_by_value ON pairs(repo_id, value DESC, id);"
    "CREATE INDEX pairs_by_prob ON pairs(repo_id, prob DESC, id);"
    "CREATE INDEX pairs_by_updated ON pairs(repo_id, updated_at DESC, id);"
    "CREATE INDEX pairs_all_by_value ON pairs(value DESC, id);"
    "CREATE INDEX pairs_all_by_prob ON pairs(prob DESC, id);"
    "CREATE INDEX pairs_all_by_updated ON pairs(updated_at DESC, id);"
    "CREATE INDEX pairs_by_cand ON pairs(repo_id, cand_key, query_key, relation, confidence, known,"
    "  value, prob, updated_at);"
    "CREATE INDEX pairs_by_query ON pairs(repo_id, query_key, cand_key, relation, confidence, known,"
    "  value, prob, updated_at);"
    "CREATE INDEX pairs_filter ON pairs(repo_id, relation, confidence, known, query_key, cand_key,"
    "  value, prob, updated_at);"
    PAIR_COUNTS_TRIGGERS
    "CREATE TRIGGER pair_texts_delete AFTER DELETE ON pairs BEGIN"
    "  DELETE FROM pair_texts WHERE id = old.id; END;"
    "CREATE VIEW pairs_full AS SELECT p.id, p.repo_id, p.query_key, p.cand_key, p.rank, p.score, p.prob,"
    "  p.relation, p.confidence, p.value, t.reasoning, t.value_detail, t.suggested_comment, p.known,"
    "  p.updated_at, p.comment_on, p.canonical FROM pairs p LEFT JOIN pair_texts t ON t.id = p.id;",

    /* 11 -> 12: the title index without positions (see the design notes),
     * built again from the items; it then holds every item, so nothing
     * stays noted. */
    "DROP TABLE items_fts;"
    "CREATE VIRTUAL TABLE items_fts USING fts5(key, title, tokenize='trigram', columnsize=0, detail=none);"
    "INSERT INTO items_fts(rowid, key, title) SELECT id, key, title FROM items;"
    "DELETE FROM items_fts_todo;",

    /* 12 -> 13: the typed (Jira) links of a repository found by a seek
     * (see the design notes). The WHERE is store_links_any_typed's own
     * condition, word for word: SQLite uses a partial index only for a
     * query whose terms imply it. */
    "CREATE INDEX links_typed ON links(repo_id) WHERE substr(source, 1, 5) = 'jira:';",

    /* 13 -> 14: the title index by dp_trigram (see the design notes),
     * built again from the items, as 12 did. */
    "DROP TABLE items_fts;"
    "CREATE VIRTUAL TABLE items_fts USING fts5(key, title, tokenize='dp_trigram', columnsize=0, detail=none);"
    "INSERT INTO items_fts(rowid, key, title) SELECT id, key, title FROM items;"
    "DELETE FROM items_fts_todo;",

    /* 14 -> 15 (STORE_V_PAIRS_ALL): the sort indexes of a page of every
     * repository only while more than one has pairs (store_pairs.c,
     * store_pairs_all_sync): dropped here, made again by the migration
     * where they are needed. */
    "DROP INDEX pairs_all_by_value;"
    "DROP INDEX pairs_all_by_prob;"
    "DROP INDEX pairs_all_by_updated;",
};

const int store_nmigrations = (int)(sizeof store_migrations / sizeof store_migrations[0]);
