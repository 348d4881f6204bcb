/* match_default.c -- the model built into the binary, used when a
 * repository has fewer than MATCH_MIN_TRAIN known duplicates and no model of
 * its own. Regenerate with bench/accuracy/gen_default.sh, which trains on
 * the eight apache-jira projects and prints this table. Until then: BM25F
 * alone (weight 1 on log BM25F), with a conservative calibration. */
#include "match.h"

static const match_model default_model = {
    .mean = {0},
    .scale = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    .w = {[FEAT_BM25F] = 1.0},
    .bias = 0,
    .platt_a = -1.0,
    .platt_b = 4.0,
    .thr_duplicate = 0.5,
    .thr_high = 0.9,
    .thr_medium = 0.5,
    .trained_on = (char *)"built-in: BM25F only (untrained)",
    .trained_at = 0,
    .ntrain = 0,
};

const match_model *match_model_default(void)
{
    return &default_model;
}
