/* text_int.h -- helpers shared by the files of the text module only. */
#ifndef DP_TEXT_INT_H
#define DP_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when a line looks like log output or a stack-trace line. */
int text_line_is_trace(const char *s, size_t n);
/* Jira block marker at s: kind 1 {code..}, 2 {noformat}, 3 {quote}/{panel}/
 * {color}; *len is the marker's length. Returns 0 if none. */
int text_jira_marker(const char *s, size_t n, int *kind, size_t *len);
/* Hash of a line's normalised form (trimmed, case-folded, digit runs
 * collapsed, checkboxes unified); 0 when the line is too short to judge. */
uint64_t text_line_norm_hash(const char *s, size_t n);

/* 1 when the folded word w is an English stop word. */
int text_is_stopword(const char *w);

#endif
