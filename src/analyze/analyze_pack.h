/* analyze_pack.h -- the kept hits of a full analysis, packed (internal to
 * the analyze module). Ranking keeps every query's best hits with their
 * judgments and judge features until the pairs are explained and stored:
 * at 250k items ~770k of them, 788 bytes each as structs (mostly doubles,
 * many of them 0 or 1). A packed record holds the same values exactly --
 * every double comes back bit for bit, every int as it was -- in about a
 * third of that:
 *
 *   u32 doc | u16 record length | varints (zigzag): bm25_rank, rank,
 *   relation, confidence and the judgment's flags | u8 has judge features |
 *   2-bit tag per double (0: +0.0, 1: 1.0, 2: a byte follows -- the index
 *   of an earlier double with the same bits, or 0xff and a float that
 *   holds it exactly --, 3: its 8 bytes follow).
 *
 * The doubles, in order: the hit's bm25, score, margin, prob, feat[]; the
 * judgment's p[], p_any, p_shown, strength; then, when kept, the JF_COUNT
 * judge features. Records of one query lie back to back (a query's kept
 * hits, best first); analyze_pack_len walks them. */
#ifndef DP_ANALYZE_PACK_H
#define DP_ANALYZE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "../match/match.h"

/* Doubles and ints a record holds (with judge features). */
#define ANALYZE_PACK_DOUBLES (4 + FEAT_COUNT + RELATION_COUNT + 3 + JF_COUNT)
#define ANALYZE_PACK_INTS 11
/* The most bytes one record takes (every double raw, every int 5 bytes). */
#define ANALYZE_PACK_MAX (4 + 2 + 5 * ANALYZE_PACK_INTS + 1 + (ANALYZE_PACK_DOUBLES + 3) / 4 + 8 * ANALYZE_PACK_DOUBLES)

/* Packs one kept hit (jf NULL: judge features not kept) into out (room for
 * ANALYZE_PACK_MAX); returns the bytes written. */
size_t analyze_pack(unsigned char *out, const match_hit *h, const match_judgment *jd, const double *jf, int rank);
/* Unpacks a record into h, jd, rank and, when the record has them and jf
 * is not NULL, jf[JF_COUNT]. Returns 1 when the record has judge features. */
int analyze_unpack(const unsigned char *in, match_hit *h, match_judgment *jd, double *jf, int *rank);
/* The doc of a record's hit, and the record's length in bytes. */
uint32_t analyze_pack_doc(const unsigned char *in);
size_t analyze_pack_len(const unsigned char *in);

#endif
