/* opt.c -- the subcommands' option parser and help printer (see opt.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "opt.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "doppel %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The usage line(s) and where the rest is: after every usage error, so the
 * reader sees the shape of the command without a page of help. */
static void usage_hint(const cli_cmd *c)
{
    fputs(c->usage, stderr);
    fprintf(stderr, "(doppel %s --help lists the options)\n", c->name);
}

int cli_usage_error(const cli_cmd *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "doppel %s: ", c->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage_hint(c);
    return EXIT_USAGE;
}

static int takes_value(const cli_opt *o)
{
    return o->kind != OPT_FLAG && o->kind != OPT_CLEAR;
}

/* A number in [lo, hi]; integers only when integral. 0 on success. */
static int parse_number(const char *s, double lo, double hi, int integral, double *out)
{
    char *end;
    errno = 0;
    double v;
    if (integral) {
        long long n = strtoll(s, &end, 10);
        v = (double)n;
    } else {
        v = strtod(s, &end);
    }
    if (!*s || *end || errno || isnan(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* The i-th name an OPT_CHOICE or OPT_ENUM accepts, and *v its enum value;
 * NULL after the last. */
static const char *choice_at(const cli_opt *o, size_t i, int *v)
{
    if (o->kind == OPT_ENUM) {
        if (o->vals[i] < 0) return NULL;
        *v = o->vals[i];
        return o->choices[*v];
    }
    *v = (int)i;
    return o->choices[i];
}

/* The names an option accepts, sep between them. */
static void choices_join(const cli_opt *o, const char *sep, sbuf *out)
{
    const char *ch;
    int v;
    for (size_t i = 0; (ch = choice_at(o, i, &v)); i++) sb_printf(out, "%s%s", i ? sep : "", ch);
}

/* Stores value (NULL for the kinds that take none) as o says. 0, or
 * EXIT_USAGE after the message. */
static int apply(const cli_cmd *c, const cli_opt *o, const char *name, const char *value)
{
    double v = 0;
    switch (o->kind) {
    case OPT_FLAG: *(int *)o->ptr = o->ival; return 0;
    case OPT_CLEAR: *(const char **)o->ptr = NULL; return 0;
    case OPT_STRING: *(const char **)o->ptr = value; return 0;
    case OPT_LIST: sv_push(o->ptr, value); return 0;
    case OPT_CALL:
        if (!o->call(c->name, name, value, o->ptr)) return 0;
        usage_hint(c);   /* after the callback's own message */
        return EXIT_USAGE;
    case OPT_CHOICE:
    case OPT_ENUM: {
        const char *ch;
        int v;
        for (size_t i = 0; (ch = choice_at(o, i, &v)); i++) {
            if (strcmp(ch, value)) continue;
            if (o->kind == OPT_ENUM) *(int *)o->ptr = v;
            else *(const char **)o->ptr = ch;
            return 0;
        }
        sbuf all;
        sb_init(&all);
        choices_join(o, ", ", &all);
        cli_usage_error(c, "%s wants one of %s; not '%s'", name, sb_str(&all), value);
        sb_free(&all);
        return EXIT_USAGE;
    }
    case OPT_INT:
    case OPT_SIZE:
    case OPT_DOUBLE:
        if (parse_number(value, o->lo, o->hi, o->kind != OPT_DOUBLE, &v)) {
            if (o->kind == OPT_DOUBLE)
                return cli_usage_error(c, "%s wants a number from %g to %g, not '%s'", name, o->lo, o->hi, value);
            return cli_usage_error(c, "%s wants an integer from %.0f to %.0f, not '%s'", name, o->lo, o->hi,
                                   value);
        }
        if (o->kind == OPT_INT) *(int *)o->ptr = (int)v;
        else if (o->kind == OPT_SIZE) *(size_t *)o->ptr = (size_t)v;
        else *(double *)o->ptr = v;
        return 0;
    case OPT_END: break;
    }
    return EXIT_USAGE;
}

static const cli_opt *find_long(const cli_opt *t, const char *name, size_t n)
{
    for (; t->kind != OPT_END; t++)
        if (t->lname && strlen(t->lname) == n && !strncmp(t->lname, name, n)) return t;
    return NULL;
}

static const cli_opt *find_short(const cli_opt *t, char s)
{
    for (; t->kind != OPT_END; t++)
        if (t->sname && t->sname == s) return t;
    return NULL;
}

int cli_parse(const cli_cmd *c, int argc, char **argv, int *nargs)
{
    int npos = 0, dashdash = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const cli_opt *o = NULL;
        const char *value = NULL, *name = a;
        char namebuf[64];
        if (dashdash || a[0] != '-' || !a[1]) {   /* an argument; "-" is standard input */
            argv[1 + npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_usage(c, stdout);
            return EXIT_OK;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            o = find_long(c->opts, a + 2, n);
            if (o && eq) {   /* --name=value: messages name the option alone */
                snprintf(namebuf, sizeof namebuf, "--%s", o->lname);
                name = namebuf;
                if (!takes_value(o)) return cli_usage_error(c, "%s takes no value", name);
                value = eq + 1;
            }
        } else if (!a[2]) {
            o = find_short(c->opts, a[1]);
        }
        if (!o) {
            if (c->flags & CLI_DASH_WORDS && a[1] != '-') {
                argv[1 + npos++] = a;
                continue;
            }
            return cli_usage_error(c, "unknown option '%s'", a);
        }
        if (takes_value(o) && !value) {
            if (i + 1 >= argc) return cli_usage_error(c, "%s needs a value", name);
            value = argv[++i];
        }
        int rc = apply(c, o, name, value);
        if (rc) return rc;
    }
    if (!nargs && npos) return cli_usage_error(c, "unexpected argument '%s'", argv[1]);
    if (nargs) *nargs = npos;
    return CLI_GO;
}

/* ---- help ------------------------------------------------------------------ */

enum { HELP_COL = 22 };   /* where an option's help starts */

static void print_option(const cli_opt *o, FILE *out)
{
    sbuf left;
    sb_init(&left);
    sb_adds(&left, "  ");
    if (o->sname) sb_printf(&left, "-%c%s", o->sname, o->lname ? ", " : "");
    if (o->lname) sb_printf(&left, "--%s", o->lname);
    if (o->argh) {
        sb_printf(&left, " %s", o->argh);
    } else if (o->kind == OPT_CHOICE || o->kind == OPT_ENUM) {
        sb_adds(&left, " ");
        choices_join(o, "|", &left);
    }
    fputs(sb_str(&left), out);
    int n = (int)left.len;
    sb_free(&left);
    if (n + 2 > HELP_COL) fprintf(out, "\n%*s", HELP_COL, "");
    else fprintf(out, "%*s", HELP_COL - n, "");
    for (const char *h = o->help; *h;) {   /* continuation lines line up under the first */
        const char *e = strchr(h, '\n');
        int len = e ? (int)(e - h) : (int)strlen(h);
        fprintf(out, "%.*s\n", len, h);
        if (!e) break;
        h = e + 1;
        if (*h) fprintf(out, "%*s", HELP_COL, "");
    }
}

void cli_usage(const cli_cmd *c, FILE *out)
{
    fputs(c->usage, out);
    if (c->about) fprintf(out, "\n%s", c->about);
    fputs("\noptions:\n", out);
    for (const cli_opt *o = c->opts; o->kind != OPT_END; o++) print_option(o, out);
    static const cli_opt help = CLI_FLAG("help", 'h', NULL, "this help");
    print_option(&help, out);
    if (c->footer) fprintf(out, "\n%s", c->footer);
}
