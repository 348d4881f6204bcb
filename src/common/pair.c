/* pair.c -- names of relations and confidence levels (see pair.h). */
#include "pair.h"

#include <string.h>

static const char *const relation_names[RELATION_COUNT] = {"not_related", "related", "duplicate"};
static const char *const relation_labels[RELATION_COUNT] = {"Not related", "Related", "Duplicate"};
static const char *const confidence_names[CONFIDENCE_COUNT] = {"high", "medium", "low"};

const char *relation_name(relation_kind r)
{
    return (unsigned)r < RELATION_COUNT ? relation_names[r] : "?";
}

const char *relation_label(relation_kind r)
{
    return (unsigned)r < RELATION_COUNT ? relation_labels[r] : "?";
}

int relation_parse(const char *s, relation_kind *out)
{
    for (int i = 0; s && i < RELATION_COUNT; i++)
        if (!strcmp(s, relation_names[i])) {
            *out = (relation_kind)i;
            return 0;
        }
    return -1;
}

const char *confidence_name(confidence_level c)
{
    return (unsigned)c < CONFIDENCE_COUNT ? confidence_names[c] : "?";
}

int confidence_parse(const char *s, confidence_level *out)
{
    for (int i = 0; s && i < CONFIDENCE_COUNT; i++)
        if (!strcmp(s, confidence_names[i])) {
            *out = (confidence_level)i;
            return 0;
        }
    return -1;
}
