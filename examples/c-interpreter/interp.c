/*
 * interp.c: a "rules" interpreter for any WIT world, written in C11 against
 * sdk/wit_dylib.h alone (no Rust, no SDK). Its script has one rule per
 * export, `name(params) = expression`; see README.md for the language.
 *
 * The world library calls wit_dylib_initialize once; this reads the linked
 * script (wit_dylib_script), parses it and checks it against the world's
 * metadata, and aborts with a message on stderr if anything is wrong. Each
 * export call then runs through the value stack protocol of the header.
 * Supported WIT types: integers, bool, string, list<T> and records of
 * those; a world that uses any other type in an export is refused at
 * start-up, and the stack functions of other kinds trap.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit_dylib.h"

/* ---------------------------------------------------------------------- */
/* Errors and memory                                                       */
/* ---------------------------------------------------------------------- */

static const wit_t *W;                 /* the world, from wit_dylib_initialize */
static const char *script_name = "script"; /* for messages */
static const char *current = "?";      /* the export being called, for traps */

/* Prints "c-interpreter: [app.rules:LINE: ]message" to stderr and traps. */
_Noreturn static void fail_at(int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("c-interpreter: ", stderr);
    if (line > 0) fprintf(stderr, "%s:%d: ", script_name, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
#define die(...) fail_at(0, __VA_ARGS__)

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}
#define xmalloc(n) xrealloc(NULL, (n))
/* Makes room for one more element at the end of a growable array. */
#define GROW(arr, len, cap)                                                 \
    do {                                                                    \
        if ((len) == (cap)) {                                               \
            (cap) = (cap) ? 2 * (cap) : 8;                                  \
            (arr) = xrealloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                   \
    } while (0)

static char *xstrndup(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* The component's allocator, over malloc (see the header). A zero-size
 * request frees the old block and returns `(void *)align`, which owns
 * nothing: this interpreter never frees a buffer of size 0. The canonical
 * ABI never asks for more than 8-byte alignment; malloc gives 16. */
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    if (new_size == 0) {
        if (old_size != 0) free(old);
        return (void *)align;
    }
    if (align > _Alignof(max_align_t)) die("cabi_realloc: alignment %zu is too large", align);
    void *p = realloc(old_size ? old : NULL, new_size);
    if (!p) die("out of memory (cabi_realloc of %zu bytes)", new_size);
    return p;
}

static bool utf8_valid(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t b = s[i];
        size_t k;
        uint32_t cp, min;
        if (b < 0x80) { i++; continue; }
        if ((b & 0xe0) == 0xc0) { k = 1; cp = b & 0x1f; min = 0x80; }
        else if ((b & 0xf0) == 0xe0) { k = 2; cp = b & 0x0f; min = 0x800; }
        else if ((b & 0xf8) == 0xf0) { k = 3; cp = b & 0x07; min = 0x10000; }
        else return false;
        if (n - i <= k) return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += k + 1;
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* Static types: what the checker knows about an expression                */
/* ---------------------------------------------------------------------- */

typedef enum { T_INT, T_BOOL, T_STR, T_LIST, T_REC } tkind;
typedef struct type {
    tkind kind;
    const struct type *elem; /* T_LIST */
    size_t rec;              /* T_REC: index into W->records */
} type;

static const type TY_INT = {T_INT, NULL, 0}, TY_BOOL = {T_BOOL, NULL, 0},
                  TY_STR = {T_STR, NULL, 0}, TY_STR_LIST = {T_LIST, &TY_STR, 0};

static bool type_eq(const type *a, const type *b) {
    if (a->kind != b->kind) return false;
    if (a->kind == T_LIST) return type_eq(a->elem, b->elem);
    return a->kind != T_REC || a->rec == b->rec;
}

/* List and record types, interned: each made once, kept for good. */
static type **types;
static size_t ntypes, types_cap;
static const type *new_type(tkind kind, const type *elem, size_t rec) {
    type t = {kind, elem, rec};
    for (size_t i = 0; i < ntypes; i++)
        if (type_eq(types[i], &t)) return types[i];
    GROW(types, ntypes, types_cap);
    types[ntypes] = xmalloc(sizeof t);
    *types[ntypes] = t;
    return types[ntypes++];
}

/* Writes a type's name ("list<string>", "person") into buf. */
static const char *type_name(const type *t, char *buf, size_t size) {
    static const char *const names[] = {"integer", "bool", "string"};
    char inner[96];
    if (t->kind == T_LIST)
        snprintf(buf, size, "list<%s>", type_name(t->elem, inner, sizeof inner));
    else
        snprintf(buf, size, "%s", t->kind == T_REC ? W->records[t->rec].name : names[t->kind]);
    return buf;
}

static const char *const KIND_NAMES[] = {
    "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "bool", "char", "f32", "f64",
    "string", "error-context", "record", "own", "borrow", "flags", "tuple", "variant",
    "enum", "option", "result", "list", "map", "list<T, N>", "future", "stream", "alias"};

static const char *kind_name(uint32_t kind) {
    return kind < sizeof KIND_NAMES / sizeof *KIND_NAMES ? KIND_NAMES[kind] : "(unknown)";
}

/* The static type of WIT type `t`, or NULL (with the offending kind in
 * *bad) if this interpreter cannot handle its values. */
static const type *from_wit(wit_type_t t, uint32_t *bad) {
    while (WIT_TYPE_KIND(t) == WIT_TYPE_ALIAS) t = W->aliases[WIT_TYPE_INDEX(t)].ty;
    size_t index = WIT_TYPE_INDEX(t);
    switch (WIT_TYPE_KIND(t)) {
    case WIT_TYPE_U8: case WIT_TYPE_U16: case WIT_TYPE_U32: case WIT_TYPE_U64:
    case WIT_TYPE_S8: case WIT_TYPE_S16: case WIT_TYPE_S32: case WIT_TYPE_S64:
        return &TY_INT;
    case WIT_TYPE_BOOL: return &TY_BOOL;
    case WIT_TYPE_STRING: return &TY_STR;
    case WIT_TYPE_LIST: {
        const type *elem = from_wit(W->lists[index].ty, bad);
        return elem ? new_type(T_LIST, elem, 0) : NULL;
    }
    case WIT_TYPE_RECORD:
        for (size_t i = 0; i < W->records[index].nfields; i++)
            if (!from_wit(W->records[index].fields[i].ty, bad)) return NULL;
        return new_type(T_REC, NULL, index);
    default:
        *bad = WIT_TYPE_KIND(t);
        return NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* Values and the value stack of a call                                    */
/* ---------------------------------------------------------------------- */

typedef enum { V_INT, V_BOOL, V_STR, V_LIST, V_REC, V_ITER } vkind;
static const char *const VKIND_NAMES[] = {"integer", "bool", "string", "list", "record",
                                          "list iterator"};

typedef struct value {
    vkind kind;
    int64_t i;            /* V_INT, V_BOOL (0 or 1), V_ITER (next element) */
    uint8_t *bytes;       /* V_STR: malloc'd, or NULL when empty */
    size_t len, cap;      /* V_STR bytes; element or field count */
    struct value *items;  /* V_LIST and V_ITER elements, V_REC fields */
} value;

static value int_value(int64_t i) { return (value){.kind = V_INT, .i = i}; }

static void value_free(value *v) {
    free(v->bytes);
    if (v->items)
        for (size_t k = (v->kind == V_ITER ? (size_t)v->i : 0); k < v->len; k++)
            value_free(&v->items[k]);
    free(v->items);
    *v = int_value(0);
}

static value value_copy(const value *v) {
    value c = *v;
    if (v->bytes) {
        c.bytes = xmalloc(v->len);
        memcpy(c.bytes, v->bytes, v->len);
    }
    if (v->items) {
        c.items = xmalloc(v->len * sizeof(value));
        c.cap = v->len;
        for (size_t k = 0; k < v->len; k++) c.items[k] = value_copy(&v->items[k]);
    }
    return c;
}

static void list_add(value *list, value item) {
    GROW(list->items, list->len, list->cap);
    list->items[list->len++] = item;
}

/* A growable byte string, which becomes a V_STR. */
typedef struct { uint8_t *p; size_t len, cap; } strbuf;
static void sb_add(strbuf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}
static value sb_value(strbuf *b) {
    value v = {.kind = V_STR, .bytes = b->p, .len = b->len};
    if (!b->len) { free(b->p); v.bytes = NULL; }
    return v;
}
static value str_value(const uint8_t *s, size_t n) {
    strbuf b = {0};
    sb_add(&b, s, n);
    return sb_value(&b);
}

/* One call: its value stack, and the memory lent to the glue until it ends
 * (popped strings, deferred buffers). */
typedef struct call {
    value *stack;
    size_t depth, cap;
    void **loans;
    size_t nloans, loancap;
} call;

static void push(void *cx, value v) {
    call *c = cx;
    GROW(c->stack, c->depth, c->cap);
    c->stack[c->depth++] = v;
}

/* Pops the top value, which must be of kind `want` (or any if want < 0). */
static value pop(void *cx, int want) {
    call *c = cx;
    if (c->depth == 0) die("export `%s`: value stack underflow", current);
    value v = c->stack[--c->depth];
    if (want >= 0 && v.kind != (vkind)want)
        die("export `%s`: expected a %s on the stack, found a %s", current,
            VKIND_NAMES[want], VKIND_NAMES[v.kind]);
    return v;
}

static void lend(call *c, void *p) {
    GROW(c->loans, c->nloans, c->loancap);
    c->loans[c->nloans++] = p;
}

/* ---------------------------------------------------------------------- */
/* Rules: the parsed script                                                 */
/* ---------------------------------------------------------------------- */

typedef enum { E_STR, E_INT, E_VAR, E_FIELD, E_CAT, E_ADD, E_CALL, E_LIST, E_REC } ekind;
typedef enum { B_SPLIT, B_JOIN, B_REVERSE, B_LENGTH, B_UPPER } builtin;
static const char *const BUILTINS[] = {"split", "join", "reverse", "length", "upper"};
static const size_t BUILTIN_ARITY[] = {2, 2, 1, 1, 1};

typedef struct expr {
    ekind kind;
    int line;
    char *name;           /* E_VAR, E_FIELD, E_CALL, E_REC: the identifier */
    value lit;            /* E_STR, E_INT */
    size_t index;         /* parameter, field, builtin or record index */
    struct expr **args;   /* operands, elements, fields */
    char **labels;        /* E_REC: the field names as written */
    size_t nargs;
} expr;

typedef struct rule {
    char *name;
    int line;
    char **params;
    size_t nparams;
    const type **ptypes;  /* one per parameter, from the export */
    expr *body;
    size_t export;        /* index into W->export_funcs */
} rule;

static rule *rules;
static size_t nrules;
static rule **by_export;  /* W->num_export_funcs entries */

/* The parser works on one NUL-terminated line at a time. */
static const char *p;
static int line_no;

static void skip_ws(void) { while (*p == ' ' || *p == '\t') p++; }
static bool accept(const char *tok) {
    skip_ws();
    size_t n = strlen(tok);
    if (strncmp(p, tok, n) != 0) return false;
    p += n;
    return true;
}
static void expect(const char *tok) {
    if (!accept(tok)) fail_at(line_no, "expected `%s` at `%.20s`", tok, p);
}
static bool is_ident_start(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}
static bool is_ident_char(char ch) {
    return is_ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '-';
}
static char *ident(void) {
    skip_ws();
    const char *start = p;
    if (!is_ident_start(*p)) fail_at(line_no, "expected a name at `%.20s`", p);
    while (is_ident_char(*p)) p++;
    return xstrndup(start, (size_t)(p - start));
}

static expr *new_expr(ekind kind) {
    expr *e = xmalloc(sizeof *e);
    *e = (expr){.kind = kind, .line = line_no};
    return e;
}
static void add_arg(expr *e, expr *arg) {
    e->args = xrealloc(e->args, (e->nargs + 1) * sizeof(expr *));
    e->args[e->nargs++] = arg;
}

static expr *parse_expr(void);

static expr *parse_primary(void) {
    skip_ws();
    if (*p == '"') {                                  /* "string" */
        strbuf b = {0};
        for (p++; *p != '"'; p++) {
            if (!*p) fail_at(line_no, "unterminated string");
            char ch = *p;
            if (ch == '\\') {
                ch = *++p;
                if (ch == 'n') ch = '\n';
                else if (ch == 't') ch = '\t';
                else if (ch != '\\' && ch != '"') fail_at(line_no, "unknown escape `\\%c`", ch);
            }
            sb_add(&b, &ch, 1);
        }
        p++;
        expr *e = new_expr(E_STR);
        e->lit = sb_value(&b);
        return e;
    }
    if ((*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9')) {
        char *end;
        expr *e = new_expr(E_INT);
        errno = 0;
        long long n = strtoll(p, &end, 10);
        if (errno == ERANGE) fail_at(line_no, "integer `%.*s` is too large", (int)(end - p), p);
        e->lit = int_value(n);
        p = end;
        return e;
    }
    if (accept("(")) {
        expr *e = parse_expr();
        expect(")");
        return e;
    }
    if (accept("[")) {                                /* [a, b, c] */
        expr *e = new_expr(E_LIST);
        if (!accept("]")) {
            do add_arg(e, parse_expr()); while (accept(","));
            expect("]");
        }
        return e;
    }
    char *name = ident();
    expr *e;
    if (accept("(")) {                                /* builtin(args) */
        e = new_expr(E_CALL);
        if (!accept(")")) {
            do add_arg(e, parse_expr()); while (accept(","));
            expect(")");
        }
    } else if (accept("{")) {                         /* record { field: e } */
        e = new_expr(E_REC);
        if (!accept("}")) {
            do {
                e->labels = xrealloc(e->labels, (e->nargs + 1) * sizeof(char *));
                e->labels[e->nargs] = ident();
                expect(":");
                add_arg(e, parse_expr());
            } while (accept(","));
            expect("}");
        }
    } else {
        e = new_expr(E_VAR);
    }
    e->name = name;
    return e;
}

static expr *parse_postfix(void) {
    expr *e = parse_primary();
    while (accept(".")) {                             /* value.field */
        expr *f = new_expr(E_FIELD);
        add_arg(f, e);
        f->name = ident();
        e = f;
    }
    return e;
}

/* `+` binds tighter than `++`; `+` must not be the start of `++`. */
static expr *parse_sum(void) {
    expr *e = parse_postfix();
    for (skip_ws(); p[0] == '+' && p[1] != '+'; skip_ws()) {
        p++;
        expr *add = new_expr(E_ADD);
        add_arg(add, e);
        add_arg(add, parse_postfix());
        e = add;
    }
    return e;
}

static expr *parse_expr(void) {
    expr *e = parse_sum();
    if (!accept("++")) return e;
    expr *cat = new_expr(E_CAT);
    add_arg(cat, e);
    do add_arg(cat, parse_sum()); while (accept("++"));
    return cat;
}

/* rule := export-name "(" [ident {"," ident}] ")" "=" expr [# comment] */
static void parse_rule(void) {
    rule r = {.line = line_no};
    const char *start = p;
    while (*p && *p != '(' && *p != ' ' && *p != '\t' && *p != '=') p++;
    if (p == start) fail_at(line_no, "expected an export name");
    r.name = xstrndup(start, (size_t)(p - start));
    expect("(");
    if (!accept(")")) {
        do {
            r.params = xrealloc(r.params, (r.nparams + 1) * sizeof(char *));
            r.params[r.nparams++] = ident();
        } while (accept(","));
        expect(")");
    }
    expect("=");
    r.body = parse_expr();
    skip_ws();
    if (*p && *p != '#') fail_at(line_no, "unexpected `%.20s`", p);
    rules = xrealloc(rules, (nrules + 1) * sizeof(rule));
    rules[nrules++] = r;
}

static void parse_script(const char *src, size_t len) {
    line_no = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = pos;
        while (end < len && src[end] != '\n') end++;
        line_no++;
        char *text = xstrndup(src + pos, end - pos);
        if (strlen(text) != end - pos) fail_at(line_no, "NUL byte in the script");
        size_t n = strlen(text);
        if (n && text[n - 1] == '\r') text[n - 1] = 0;
        p = text;
        skip_ws();
        if (*p && *p != '#') parse_rule();
        free(text);
        pos = end + 1;
    }
}

/* ---------------------------------------------------------------------- */
/* Checking the script against the world                                   */
/* ---------------------------------------------------------------------- */

static char *qualified(const wit_export_func_t *f) {
    size_t n = strlen(f->name) + (f->interface ? strlen(f->interface) + 1 : 0) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s%s", f->interface ? f->interface : "", f->interface ? "#" : "", f->name);
    return s;
}

/* Infers the type of `e` in rule `r`; `hint` (may be NULL) is the type the
 * context expects, which gives `[]` and record literals their type. Fills in
 * the indexes the evaluator uses. */
static const type *infer(expr *e, const rule *r, const type *hint);

static void check(expr *e, const rule *r, const type *want) {
    const type *got = infer(e, r, want);
    if (!type_eq(got, want)) {
        char a[128], b[128];
        fail_at(e->line, "expected %s, found %s", type_name(want, a, sizeof a),
                type_name(got, b, sizeof b));
    }
}

static const type *infer(expr *e, const rule *r, const type *hint) {
    char buf[128];
    switch (e->kind) {
    case E_STR: return &TY_STR;
    case E_INT: return &TY_INT;
    case E_VAR:
        for (size_t i = 0; i < r->nparams; i++)
            if (!strcmp(e->name, r->params[i])) { e->index = i; return r->ptypes[i]; }
        fail_at(e->line, "unknown name `%s` (rule `%s` has %zu parameter(s))", e->name,
                r->name, r->nparams);
    case E_FIELD: {
        const type *t = infer(e->args[0], r, NULL);
        if (t->kind != T_REC)
            fail_at(e->line, "`.%s` on a %s, not a record", e->name, type_name(t, buf, sizeof buf));
        const wit_record_t *rec = &W->records[t->rec];
        uint32_t bad;
        for (size_t i = 0; i < rec->nfields; i++)
            if (!strcmp(rec->fields[i].name, e->name)) {
                e->index = i;
                return from_wit(rec->fields[i].ty, &bad);
            }
        fail_at(e->line, "record `%s` has no field `%s`", rec->name, e->name);
    }
    case E_CAT:
        for (size_t i = 0; i < e->nargs; i++)
            if (infer(e->args[i], r, NULL)->kind > T_STR)
                fail_at(e->line, "`++` joins strings, integers and bools only");
        return &TY_STR;
    case E_ADD:
        check(e->args[0], r, &TY_INT);
        check(e->args[1], r, &TY_INT);
        return &TY_INT;
    case E_CALL: {
        size_t b = 0;
        while (b < sizeof BUILTINS / sizeof *BUILTINS && strcmp(BUILTINS[b], e->name)) b++;
        if (b == sizeof BUILTINS / sizeof *BUILTINS)
            fail_at(e->line, "unknown function `%s` (split, join, reverse, length, upper)",
                    e->name);
        if (e->nargs != BUILTIN_ARITY[b])
            fail_at(e->line, "`%s` takes %zu argument(s)", e->name, BUILTIN_ARITY[b]);
        e->index = b;
        switch ((builtin)b) {
        case B_SPLIT: check(e->args[0], r, &TY_STR); check(e->args[1], r, &TY_STR);
                      return &TY_STR_LIST;
        case B_JOIN: check(e->args[0], r, &TY_STR_LIST); check(e->args[1], r, &TY_STR);
                     return &TY_STR;
        case B_UPPER: check(e->args[0], r, &TY_STR); return &TY_STR;
        case B_REVERSE: case B_LENGTH: {
            const type *t = infer(e->args[0], r, hint);
            if (t->kind != T_LIST && !(b == B_LENGTH && t->kind == T_STR))
                fail_at(e->line, "`%s` of a %s", e->name, type_name(t, buf, sizeof buf));
            return b == B_LENGTH ? &TY_INT : t;
        }
        }
        break;
    }
    case E_LIST: {
        if (e->nargs == 0) {
            if (!hint || hint->kind != T_LIST) fail_at(e->line, "cannot tell the type of `[]` here");
            return hint;
        }
        const type *elem = infer(e->args[0], r, hint && hint->kind == T_LIST ? hint->elem : NULL);
        for (size_t i = 1; i < e->nargs; i++) check(e->args[i], r, elem);
        return new_type(T_LIST, elem, 0);
    }
    case E_REC: {
        size_t found = SIZE_MAX, count = 0;       /* the record named e->name */
        if (hint && hint->kind == T_REC && !strcmp(W->records[hint->rec].name, e->name))
            found = hint->rec, count = 1;
        else
            for (size_t i = 0; i < W->num_records; i++)
                if (!strcmp(W->records[i].name, e->name)) found = i, count++;
        if (count != 1)
            fail_at(e->line, count ? "record name `%s` is ambiguous here" : "unknown record `%s`",
                    e->name);
        const wit_record_t *rec = &W->records[found];
        if (e->nargs != rec->nfields)
            fail_at(e->line, "record `%s` has %zu field(s), %zu given", rec->name, rec->nfields,
                    e->nargs);
        /* Put the fields in declaration order. */
        expr **ordered = xmalloc(e->nargs * sizeof(expr *));
        uint32_t bad;
        for (size_t i = 0; i < rec->nfields; i++) {
            size_t j = 0;
            while (j < e->nargs && strcmp(e->labels[j], rec->fields[i].name)) j++;
            if (j == e->nargs)
                fail_at(e->line, "record `%s` needs field `%s`", rec->name, rec->fields[i].name);
            ordered[i] = e->args[j];
            check(ordered[i], r, from_wit(rec->fields[i].ty, &bad));
        }
        free(e->args);
        e->args = ordered;
        e->index = found;
        return new_type(T_REC, NULL, found);
    }
    }
    abort();
}

/* Matches rules to exports and type-checks every rule. */
static void check_script(void) {
    by_export = xmalloc(W->num_export_funcs * sizeof(rule *));
    memset(by_export, 0, W->num_export_funcs * sizeof(rule *));
    for (size_t k = 0; k < nrules; k++) {
        rule *r = &rules[k];
        size_t matches = 0;
        for (size_t i = 0; i < W->num_export_funcs; i++) {
            char *q = qualified(&W->export_funcs[i]);
            if (!strcmp(r->name, W->export_funcs[i].name) || !strcmp(r->name, q))
                r->export = i, matches++;
            free(q);
        }
        if (matches == 0) fail_at(r->line, "the world exports no function `%s`", r->name);
        if (matches > 1)
            fail_at(r->line, "`%s` names several exports; write `interface#%s`", r->name, r->name);
        if (by_export[r->export])
            fail_at(r->line, "a second rule for `%s` (the first is on line %d)", r->name,
                    by_export[r->export]->line);
        by_export[r->export] = r;
    }
    for (size_t i = 0; i < W->num_export_funcs; i++) {
        const wit_export_func_t *f = &W->export_funcs[i];
        rule *r = by_export[i];
        if (!r) die("%s: no rule for export `%s`", script_name, qualified(f));
        if (f->task_return) fail_at(r->line, "`%s` is async; this interpreter is sync only", r->name);
        if (r->nparams != f->nparams)
            fail_at(r->line, "`%s` takes %zu parameter(s), the rule names %zu", r->name,
                    f->nparams, r->nparams);
        r->ptypes = xmalloc(f->nparams * sizeof(type *));
        uint32_t bad = 0;
        for (size_t j = 0; j < f->nparams; j++) {
            for (size_t k = 0; k < j; k++)
                if (!strcmp(r->params[j], r->params[k]))
                    fail_at(r->line, "parameter `%s` named twice", r->params[j]);
            if (!(r->ptypes[j] = from_wit(f->params[j], &bad)))
                fail_at(r->line, "parameter `%s` of `%s` uses type %s, which is not supported",
                        r->params[j], r->name, kind_name(bad));
        }
        if (WIT_TYPE_IS_EMPTY(f->result)) {
            infer(r->body, r, NULL);
        } else {
            const type *t = from_wit(f->result, &bad);
            if (!t) fail_at(r->line, "`%s` returns type %s, which is not supported", r->name,
                            kind_name(bad));
            check(r->body, r, t);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Evaluation                                                              */
/* ---------------------------------------------------------------------- */

static size_t utf8_count(const uint8_t *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += (s[i] & 0xc0) != 0x80;
    return count;
}

/* Splits at every `sep` (or into characters if `sep` is empty), dropping
 * empty pieces. */
static value split(const value *s, const value *sep) {
    value list = {.kind = V_LIST};
    size_t start = 0, i = 0;
    while (i < s->len) {
        size_t skip;
        if (sep->len == 0) {
            skip = 0;
            do i++; while (i < s->len && (s->bytes[i] & 0xc0) == 0x80);
        } else if (s->len - i >= sep->len && !memcmp(s->bytes + i, sep->bytes, sep->len)) {
            skip = sep->len;
        } else {
            i++;
            continue;
        }
        if (i > start) list_add(&list, str_value(s->bytes + start, i - start));
        i += skip;
        start = i;
    }
    if (s->len > start) list_add(&list, str_value(s->bytes + start, s->len - start));
    return list;
}

static value eval(const expr *e, const value *args) {
    switch (e->kind) {
    case E_STR: case E_INT: return value_copy(&e->lit);
    case E_VAR: return value_copy(&args[e->index]);
    case E_FIELD: {
        value rec = eval(e->args[0], args);
        value field = rec.items[e->index];
        rec.items[e->index] = int_value(0);
        value_free(&rec);
        return field;
    }
    case E_ADD: {
        value a = eval(e->args[0], args), b = eval(e->args[1], args);
        if ((b.i > 0 && a.i > INT64_MAX - b.i) || (b.i < 0 && a.i < INT64_MIN - b.i))
            die("export `%s`: %s:%d: integer overflow", current, script_name, e->line);
        return int_value(a.i + b.i);
    }
    case E_CAT: {
        strbuf b = {0};
        for (size_t i = 0; i < e->nargs; i++) {
            value v = eval(e->args[i], args);
            char num[24];
            if (v.kind == V_STR) sb_add(&b, v.bytes, v.len);
            else if (v.kind == V_BOOL) sb_add(&b, v.i ? "true" : "false", v.i ? 4 : 5);
            else sb_add(&b, num, (size_t)snprintf(num, sizeof num, "%" PRId64, v.i));
            value_free(&v);
        }
        return sb_value(&b);
    }
    case E_LIST: case E_REC: {
        value v = {.kind = e->kind == E_LIST ? V_LIST : V_REC};
        for (size_t i = 0; i < e->nargs; i++) list_add(&v, eval(e->args[i], args));
        return v;
    }
    case E_CALL: {
        value a = eval(e->args[0], args), b = {0}, out = {0};
        if (e->nargs > 1) b = eval(e->args[1], args);
        switch ((builtin)e->index) {
        case B_SPLIT: out = split(&a, &b); break;
        case B_JOIN: {
            strbuf s = {0};
            for (size_t i = 0; i < a.len; i++) {
                if (i) sb_add(&s, b.bytes, b.len);
                sb_add(&s, a.items[i].bytes, a.items[i].len);
            }
            out = sb_value(&s);
            break;
        }
        case B_REVERSE:
            for (size_t i = 0; i < a.len / 2; i++) {
                value t = a.items[i];
                a.items[i] = a.items[a.len - 1 - i];
                a.items[a.len - 1 - i] = t;
            }
            return a;
        case B_LENGTH:
            out = int_value((int64_t)(a.kind == V_STR ? utf8_count(a.bytes, a.len) : a.len));
            break;
        case B_UPPER:  /* ASCII letters only */
            for (size_t i = 0; i < a.len; i++)
                if (a.bytes[i] >= 'a' && a.bytes[i] <= 'z') a.bytes[i] -= 'a' - 'A';
            return a;
        }
        value_free(&a);
        value_free(&b);
        return out;
    }
    }
    abort();
}

/* ---------------------------------------------------------------------- */
/* The interpreter's half of wit_dylib.h                                   */
/* ---------------------------------------------------------------------- */

void wit_dylib_initialize(const wit_t *wit) {
    if (wit->version != WIT_CURRENT_VERSION)
        die("world library has ABI version %" PRIu32 ", expected %d", wit->version,
            WIT_CURRENT_VERSION);
    W = wit;
    size_t len;
    const uint8_t *blob = wit_dylib_script(&len);
    uint32_t n = len < 4 ? UINT32_MAX
                         : (uint32_t)blob[0] | (uint32_t)blob[1] << 8 |
                               (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (n > len - 4) die("the linked script is malformed");
    script_name = xstrndup((const char *)blob + 4, n);
    const uint8_t *src = blob + 4 + n;
    if (!utf8_valid(src, len - 4 - n)) die("%s is not valid UTF-8", script_name);
    parse_script((const char *)src, len - 4 - n);
    check_script();
    /* The rules hold copies of what they need, so the source can go: a
     * pre-initialised component then does not ship it in its snapshot. */
    wit_dylib_script_release();
}


void wit_dylib_dealloc_bytes(void *cx, void *ptr, size_t size, size_t align, uint32_t defer) {
    (void)align;
    if (size == 0) return;
    if (defer) lend(cx, ptr);
    else free(ptr);
}

void *wit_dylib_export_start(size_t which) {
    current = W->export_funcs[which].name;
    call *c = xmalloc(sizeof *c);
    *c = (call){0};
    return c;
}

void wit_dylib_export_call(void *cx, size_t which) {
    const rule *r = by_export[which];
    value *args = xmalloc(r->nparams * sizeof(value));
    for (size_t i = r->nparams; i-- > 0;) args[i] = pop(cx, -1);  /* the last is on top */
    value result = eval(r->body, args);
    for (size_t i = 0; i < r->nparams; i++) value_free(&args[i]);
    free(args);
    if (WIT_TYPE_IS_EMPTY(W->export_funcs[which].result)) value_free(&result);
    else push(cx, result);
}

void wit_dylib_export_finish(void *cx, size_t which) {
    (void)which;
    call *c = cx;
    while (c->depth) value_free(&c->stack[--c->depth]);
    for (size_t i = 0; i < c->nloans; i++) free(c->loans[i]);
    free(c->stack);
    free(c->loans);
    free(c);
}

/* Pops: integers are range-checked against the WIT type. */
static int64_t pop_int(void *cx, int64_t lo, int64_t hi, const char *ty) {
    value v = pop(cx, V_INT);
    if (v.i < lo || v.i > hi)
        die("export `%s`: %" PRId64 " is out of range for %s", current, v.i, ty);
    return v.i;
}
uint8_t wit_dylib_pop_u8(void *cx) { return (uint8_t)pop_int(cx, 0, UINT8_MAX, "u8"); }
uint16_t wit_dylib_pop_u16(void *cx) { return (uint16_t)pop_int(cx, 0, UINT16_MAX, "u16"); }
uint32_t wit_dylib_pop_u32(void *cx) { return (uint32_t)pop_int(cx, 0, UINT32_MAX, "u32"); }
uint64_t wit_dylib_pop_u64(void *cx) { return (uint64_t)pop_int(cx, 0, INT64_MAX, "u64"); }
int8_t wit_dylib_pop_s8(void *cx) { return (int8_t)pop_int(cx, INT8_MIN, INT8_MAX, "s8"); }
int16_t wit_dylib_pop_s16(void *cx) { return (int16_t)pop_int(cx, INT16_MIN, INT16_MAX, "s16"); }
int32_t wit_dylib_pop_s32(void *cx) { return (int32_t)pop_int(cx, INT32_MIN, INT32_MAX, "s32"); }
int64_t wit_dylib_pop_s64(void *cx) { return pop_int(cx, INT64_MIN, INT64_MAX, "s64"); }
bool wit_dylib_pop_bool(void *cx) { return pop(cx, V_BOOL).i != 0; }

/* The bytes stay lent to the glue until the call ends. */
size_t wit_dylib_pop_string(void *cx, const uint8_t **bytes_out) {
    value v = pop(cx, V_STR);
    if (v.bytes) lend(cx, v.bytes);
    *bytes_out = v.bytes ? v.bytes : (const uint8_t *)"";
    return v.len;
}

/* Replaces the record with its fields, the first on top. */
void wit_dylib_pop_record(void *cx, size_t ty) {
    value v = pop(cx, V_REC);
    if (v.len != W->records[ty].nfields) die("export `%s`: record of the wrong shape", current);
    for (size_t i = v.len; i-- > 0;) push(cx, v.items[i]);
    free(v.items);
}

/* Lists are always lowered element by element, through an iterator. */
size_t wit_dylib_pop_list(void *cx, size_t ty, const void **elems_out) {
    (void)ty;
    value v = pop(cx, V_LIST);
    *elems_out = NULL;
    v.kind = V_ITER;
    v.i = 0;
    push(cx, v);
    return v.len;
}
void wit_dylib_pop_list_iter_next(void *cx, size_t ty) {
    (void)ty;
    call *c = cx;
    value *it = c->depth ? &c->stack[c->depth - 1] : NULL;
    if (!it || it->kind != V_ITER || (size_t)it->i >= it->len)
        die("export `%s`: no list element to lower", current);
    push(cx, it->items[it->i++]);  /* moved out; value_free skips it */
}
void wit_dylib_pop_list_iter(void *cx, size_t ty) {
    (void)ty;
    value it = pop(cx, V_ITER);
    value_free(&it);
}

/* Pushes: narrow integers keep their low bits, as the header asks. */
void wit_dylib_push_u8(void *cx, uint32_t val) { push(cx, int_value((uint8_t)val)); }
void wit_dylib_push_s8(void *cx, int32_t val) { push(cx, int_value((int8_t)val)); }
void wit_dylib_push_u16(void *cx, uint32_t val) { push(cx, int_value((uint16_t)val)); }
void wit_dylib_push_s16(void *cx, int32_t val) { push(cx, int_value((int16_t)val)); }
void wit_dylib_push_u32(void *cx, uint32_t val) { push(cx, int_value(val)); }
void wit_dylib_push_s32(void *cx, int32_t val) { push(cx, int_value(val)); }
void wit_dylib_push_s64(void *cx, int64_t val) { push(cx, int_value(val)); }
void wit_dylib_push_u64(void *cx, uint64_t val) {
    if (val > INT64_MAX) die("export `%s`: u64 %" PRIu64 " is too large", current, val);
    push(cx, int_value((int64_t)val));
}
void wit_dylib_push_bool(void *cx, uint32_t val) {
    push(cx, (value){.kind = V_BOOL, .i = val != 0});
}

/* Takes ownership of `bytes` (not when empty: see cabi_realloc). */
void wit_dylib_push_string(void *cx, uint8_t *bytes, size_t len) {
    if (!utf8_valid(bytes, len)) die("export `%s`: a string argument is not UTF-8", current);
    push(cx, (value){.kind = V_STR, .bytes = len ? bytes : NULL, .len = len});
}

/* Pops the fields (the last on top) and pushes the record. */
void wit_dylib_push_record(void *cx, size_t ty) {
    size_t n = W->records[ty].nfields;
    value rec = {.kind = V_REC, .items = xmalloc(n * sizeof(value)), .len = n, .cap = n};
    for (size_t i = n; i-- > 0;) rec.items[i] = pop(cx, -1);
    push(cx, rec);
}

/* Declines the canonical buffer: the glue then pushes every element. */
bool wit_dylib_push_list(void *cx, size_t ty, void *elems, size_t len) {
    (void)ty;
    (void)elems;
    push(cx, (value){.kind = V_LIST, .items = xmalloc(len * sizeof(value)), .cap = len});
    return false;
}
void wit_dylib_list_append(void *cx, size_t ty) {
    (void)ty;
    value elem = pop(cx, -1);
    call *c = cx;
    if (!c->depth || c->stack[c->depth - 1].kind != V_LIST)
        die("export `%s`: list_append without a list", current);
    list_add(&c->stack[c->depth - 1], elem);
}

/* Everything else: refused at initialisation, so never reached through an
 * export; these trap with a message rather than misbehave. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define UNSUPPORTED(what) die("%s is not supported by this interpreter", what)
uint32_t wit_dylib_export_async_call(void *cx, size_t which) { UNSUPPORTED("an async export"); }
uint32_t wit_dylib_export_async_callback(uint32_t e0, uint32_t e1, uint32_t e2, size_t which) {
    UNSUPPORTED("an async export");
}
void wit_dylib_resource_dtor(size_t ty, size_t rep) { UNSUPPORTED("a resource"); }
uint32_t wit_dylib_pop_char(void *cx) { UNSUPPORTED("char"); }
float wit_dylib_pop_f32(void *cx) { UNSUPPORTED("f32"); }
double wit_dylib_pop_f64(void *cx) { UNSUPPORTED("f64"); }
uint32_t wit_dylib_pop_flags(void *cx, size_t ty) { UNSUPPORTED("flags"); }
uint32_t wit_dylib_pop_enum(void *cx, size_t ty) { UNSUPPORTED("enum"); }
uint32_t wit_dylib_pop_borrow(void *cx, size_t ty) { UNSUPPORTED("borrow"); }
uint32_t wit_dylib_pop_own(void *cx, size_t ty) { UNSUPPORTED("own"); }
uint32_t wit_dylib_pop_future(void *cx, size_t ty) { UNSUPPORTED("future"); }
uint32_t wit_dylib_pop_stream(void *cx, size_t ty) { UNSUPPORTED("stream"); }
void wit_dylib_pop_tuple(void *cx, size_t ty) { UNSUPPORTED("tuple"); }
uint32_t wit_dylib_pop_variant(void *cx, size_t ty) { UNSUPPORTED("variant"); }
uint32_t wit_dylib_pop_option(void *cx, size_t ty) { UNSUPPORTED("option"); }
uint32_t wit_dylib_pop_result(void *cx, size_t ty) { UNSUPPORTED("result"); }
size_t wit_dylib_pop_map(void *cx, size_t ty) { UNSUPPORTED("map"); }
void wit_dylib_pop_map_iter_next(void *cx, size_t ty) { UNSUPPORTED("map"); }
void wit_dylib_pop_map_iter(void *cx, size_t ty) { UNSUPPORTED("map"); }
void wit_dylib_push_char(void *cx, uint32_t val) { UNSUPPORTED("char"); }
void wit_dylib_push_f32(void *cx, float val) { UNSUPPORTED("f32"); }
void wit_dylib_push_f64(void *cx, double val) { UNSUPPORTED("f64"); }
void wit_dylib_push_tuple(void *cx, size_t ty) { UNSUPPORTED("tuple"); }
void wit_dylib_push_flags(void *cx, size_t ty, uint32_t flags) { UNSUPPORTED("flags"); }
void wit_dylib_push_enum(void *cx, size_t ty, uint32_t discr) { UNSUPPORTED("enum"); }
void wit_dylib_push_borrow(void *cx, size_t ty, uint32_t h) { UNSUPPORTED("borrow"); }
void wit_dylib_push_own(void *cx, size_t ty, uint32_t handle) { UNSUPPORTED("own"); }
void wit_dylib_push_future(void *cx, size_t ty, uint32_t handle) { UNSUPPORTED("future"); }
void wit_dylib_push_stream(void *cx, size_t ty, uint32_t handle) { UNSUPPORTED("stream"); }
void wit_dylib_push_variant(void *cx, size_t ty, uint32_t discr) { UNSUPPORTED("variant"); }
void wit_dylib_push_option(void *cx, size_t ty, uint32_t discr) { UNSUPPORTED("option"); }
void wit_dylib_push_result(void *cx, size_t ty, uint32_t discr) { UNSUPPORTED("result"); }
void wit_dylib_push_map(void *cx, size_t ty, size_t len) { UNSUPPORTED("map"); }
void wit_dylib_map_append(void *cx, size_t ty) { UNSUPPORTED("map"); }
/* The error-context built-ins arrive in any world that mentions the type;
 * keeping them is harmless, passing such a value is not supported. */
void wit_dylib_error_context_builtins(wit_error_context_new_fn_t new_,
                                      wit_error_context_debug_message_fn_t debug_message,
                                      wit_error_context_drop_fn_t drop) {}
uint32_t wit_dylib_pop_error_context(void *cx) { UNSUPPORTED("error-context"); }
void wit_dylib_push_error_context(void *cx, uint32_t handle) { UNSUPPORTED("error-context"); }
#pragma GCC diagnostic pop
