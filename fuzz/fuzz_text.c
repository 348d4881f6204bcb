/* fuzz_text.c -- the text pipeline (src/text): field split, template,
 * tokenizer, signals.
 *
 * Input: TITLE \0 BODY \0 OTHER \0 LABELS (missing parts are empty). A
 * template is learned from five copies of OTHER plus BODY, so the lines BODY
 * shares with OTHER are boilerplate; the item (title, body, labels and, Jira
 * style, components and type) is split with and without it; the fields are
 * tokenized with the default options or with all options off; signals are
 * extracted.
 *
 * Checks: text_tokenize() and text_tokenize_cb() give the same tokens;
 * tokens are non-empty with the length they claim, and valid UTF-8 when the
 * text was (import guarantees it); fields are never NULL; a template's
 * hashes rebuild an equal template. */
#include "fuzz.h"

#include "../src/text/text.h"

static text_tokenizer *tk_default, *tk_plain;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    text_opts o = {0};
    tk_default = text_tokenizer_new(NULL);
    tk_plain = text_tokenizer_new(&o);
    return 0;
}

typedef struct cb_state {
    const strvec *want;
    size_t i;
    int utf8;
} cb_state;

static void on_token(void *ctx, const char *tok, size_t len, int extra)
{
    cb_state *s = ctx;
    fuzz_check(len > 0 && strlen(tok) == len, "token length %zu for \"%s\"", len, tok);
    fuzz_check(extra == 0 || extra == 1, "extra %d", extra);
    fuzz_check(!s->utf8 || dp_utf8_valid(tok, len, NULL), "token is not UTF-8");
    fuzz_check(s->i < s->want->n && !strcmp(s->want->v[s->i], tok),
               "streaming token %zu \"%s\" differs from text_tokenize", s->i, tok);
    s->i++;
}

static void tokenize(text_tokenizer *tk, const char *s, int utf8)
{
    strvec toks = {0};
    size_t n = strlen(s);
    text_tokenize(tk, s, n, &toks);
    cb_state st = {&toks, 0, utf8};
    text_tokenize_cb(tk, s, n, on_token, &st);
    fuzz_check(st.i == toks.n, "streaming gave %zu tokens, text_tokenize %zu", st.i, toks.n);
    sv_free(&toks);
}

static void split_and_tokenize(const item *it, const text_template *tpl, text_tokenizer *tk, int utf8)
{
    text_fields tf;
    text_split(it, tpl, &tf);
    for (int f = 0; f < FIELD_COUNT; f++) {
        fuzz_check(tf.f[f] != NULL, "field %s is NULL", text_field_name((text_field)f));
        tokenize(tk, tf.f[f], utf8);
    }
    text_signals sig;
    text_signals_extract(&tf, &sig);
    const strvec *vs[] = {&sig.exceptions, &sig.frames, &sig.paths, &sig.errors, &sig.versions};
    for (size_t v = 0; v < sizeof vs / sizeof vs[0]; v++)
        for (size_t i = 0; i < vs[v]->n; i++) fuzz_check(vs[v]->v[i] != NULL, "NULL signal");
    text_signals_free(&sig);
    text_fields_free(&tf);
}

static void check_template(const text_template *t, const char *body)
{
    size_t n;
    const uint64_t *h = text_template_hashes(t, &n);
    fuzz_check(n == text_template_size(t), "template size");
    text_template *u = text_template_from_hashes(h, n);
    fuzz_check(u != NULL, "a learned template's hashes are not ascending");
    for (const char *l = body; *l;) {
        size_t len = strcspn(l, "\n");
        fuzz_check(text_template_is_boilerplate(t, l, len) == text_template_is_boilerplate(u, l, len),
                   "rebuilt template disagrees");
        l += len + (l[len] != 0);
    }
    text_template_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NULs separate the parts; each must be valid UTF-8 for the UTF-8 check */
    int utf8 = 1;
    for (size_t i = 0, s = 0; i <= size; i++)
        if (i == size || data[i] == 0) {
            utf8 &= dp_utf8_valid((const char *)data + s, i - s, NULL);
            s = i + 1;
        }
    const uint8_t *p = data;
    size_t n = size;
    item it;
    item_init(&it);
    it.key = xstrdup("HIVE-7");
    it.number = 7;
    it.title = fuzz_part(&p, &n, 0);
    it.body = fuzz_part(&p, &n, 0);
    char *other = fuzz_part(&p, &n, 0);
    char *labels = fuzz_part(&p, &n, 0);
    for (char *save = NULL, *t = strtok_r(labels, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
        sv_push(&it.labels, t);
    it.state = xstrdup("open");

    const char *bodies[] = {other, other, other, other, other, it.body};
    text_template *tpl = text_template_learn(bodies, sizeof bodies / sizeof bodies[0]);
    check_template(tpl, it.body);

    split_and_tokenize(&it, NULL, tk_default, utf8);
    split_and_tokenize(&it, tpl, tk_plain, utf8);
    /* Jira-style item: components and a type take part in the labels field */
    sv_push(&it.components, "Query Processor");
    it.type = xstrdup(other);
    split_and_tokenize(&it, tpl, tk_default, utf8);

    text_template_free(tpl);
    item_free(&it);
    free(other);
    free(labels);
    return 0;
}
