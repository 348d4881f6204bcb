-- scale_pairs.sql -- about two pairs per item for a store of generated items
-- (bench/gen_scale.py, imported), without running analyze: what the review
-- page's benchmarks (bench/pages.sh) need. 250,000 items give 499,988 pairs
-- of every relation and confidence, a seventeenth of them known.
--   sqlite3 STORE.db < bench/scale_pairs.sql
INSERT INTO pairs(repo_id, query_key, cand_key, rank, score, prob, relation, confidence, value,
                  known, updated_at)
SELECT a.repo_id, a.key, b.key, k.r, 1.0, (abs(random()) % 1000) / 1000.0,
       CASE (a.id + k.r) % 3 WHEN 0 THEN 'duplicate' WHEN 1 THEN 'related' ELSE 'not_related' END,
       CASE (a.id * 7 + k.r) % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END,
       (abs(random()) % 1000000) / 100000.0, (a.id % 17 = 0),
       a.updated_at
FROM items a CROSS JOIN (SELECT 1 AS r, 1 AS d UNION ALL SELECT 2, 7 UNION ALL SELECT 3, 13) k
JOIN items b ON b.id = a.id + k.d AND b.repo_id = a.repo_id
WHERE a.id % 3 <> 0 OR k.r < 3;
DELETE FROM pairs WHERE id % 4 = 0;
INSERT INTO pair_texts(id, reasoning) SELECT id, 'reasoning text of some length for the pair' FROM pairs;
