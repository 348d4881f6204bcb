#!/usr/bin/env bash
# index.sh -- speed, memory and accuracy benchmark of the BM25F index on the
# apache-jira data (../shared/data, read in place).
#   bench/index.sh            speed on all 8 projects as one repository
#                             (40,704 docs, 2 threads) + recall@10 per project
#   bench/index.sh speed|recall
#
# Parameter sweep (mean R@10 over the 8 projects, env overrides of
# index_bench; first defaults k1 1.2, w 3/1/0.8/1.5, query_k1 = k1: 0.707):
#   k1 2, query_k1 1000, w 5/1/0.3/0            0.7436
#   ... + bigrams off                           0.7515
#   ... + bigrams on, bigram_weight 0.3         0.7539
#   ... + w labels 0.2, b 0.5/0.9/0.75/0.3      0.7542  (the defaults)
#   k1 3: 0.7388; b 0.5 everywhere: 0.7333; code_split off: 0.673; equal
#   field weights: 0.677.
# Query cap (IX_QMAX; terms ranked by qw * idf * max impact), mean R@10 /
# mean R@100: all terms 0.7542 / 0.9105; 80: 0.7538 / 0.9119; 60 (the
# default): 0.7538 / 0.9109; 50: 0.7528 / 0.9096; 40: 0.7520 / 0.9104;
# 30: 0.7486 / 0.9099. (Ranked by qw * idf alone, 40 gives 0.7482.)
# IX_NOSAMPLE=1 skips the exhaustive comparison of the speed run.
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/apache-jira}
[ -d "$DATA" ] || DATA=/work/shared/data/apache-jira
BUILD=${BUILD:-build}
make -s -j2 BUILD="$BUILD" "$BUILD/bench/index_bench"   # links the index, text and common objects only
PROJECTS="activemq hadoop hdfs hive mapreduce storm yarn zookeeper"
what=${1:-all}
if [ "$what" = all ] || [ "$what" = speed ]; then
    echo "== speed: all projects as one index, 2 threads"
    "$BUILD/bench/index_bench" speed "$DATA" 2 $PROJECTS
fi
if [ "$what" = all ] || [ "$what" = recall ]; then
    echo "== recall of known duplicates (query restricted to earlier docs)"
    "$BUILD/bench/index_bench" recall "$DATA" $PROJECTS
fi
