#!/usr/bin/env bash
# index.sh -- speed, memory and accuracy benchmark of the BM25F index on the
# apache-jira data (../shared/data, read in place).
#   bench/index.sh            speed on all 8 projects as one repository
#                             (40,704 docs, 2 threads) + recall@10 per project
#   bench/index.sh speed|recall
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/apache-jira}
[ -d "$DATA" ] || DATA=/work/shared/data/apache-jira
BUILD=${BUILD:-build/index-bench}
make -s -f bench/Makefile BUILD="$BUILD"
PROJECTS="activemq hadoop hdfs hive mapreduce storm yarn zookeeper"
what=${1:-all}
if [ "$what" = all ] || [ "$what" = speed ]; then
    echo "== speed: all projects as one index, 2 threads"
    "$BUILD/index_bench" speed "$DATA" 2 $PROJECTS
fi
if [ "$what" = all ] || [ "$what" = recall ]; then
    echo "== recall of known duplicates (query restricted to earlier docs)"
    "$BUILD/index_bench" recall "$DATA" $PROJECTS
fi
