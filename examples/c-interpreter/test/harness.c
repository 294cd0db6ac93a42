/*
 * Host-side tests of interp.c, without wasm: this file includes the
 * interpreter, supplies the script library's `wit_dylib_script` and
 * `wit_dylib_script_release` and the metadata a world library would
 * generate for ../app.wit, and plays the glue's part of the stack protocol
 * (see sdk/wit_dylib.h). Script errors and traps abort, so each failing
 * case runs in a child process whose stderr is checked. Build and run (from
 * this directory):
 *
 *   gcc -std=c11 -Wall -Wextra -g -fsanitize=address,undefined -I ../../../sdk \
 *       -o harness harness.c && ./harness ../app.rules
 */
#define _POSIX_C_SOURCE 200809L
#include "../interp.c"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- The script library ---- */

static uint8_t *blob;
static size_t blob_len;

static void set_script(const char *name, const char *source) {
    size_t n = strlen(name), s = strlen(source);
    free(blob);
    blob_len = 4 + n + s;
    blob = malloc(blob_len);
    blob[0] = (uint8_t)n, blob[1] = (uint8_t)(n >> 8), blob[2] = blob[3] = 0;
    memcpy(blob + 4, name, n);
    memcpy(blob + 4 + n, source, s);
}

const uint8_t *wit_dylib_script(size_t *len) {
    *len = blob_len;
    return blob;
}

/* As the pre-initialisation library does: the source becomes zeros, so a
 * rule that still pointed into it would show up as a failing case. */
void wit_dylib_script_release(void) {
    memset(blob, 0, blob_len);
}

/* ---- The world library's metadata for ../app.wit ---- */

#define STR WIT_TYPE_STRING
#define U32 WIT_TYPE_U32
#define LIST_STR (WIT_TYPE_LIST | 0 << WIT_TYPE_INDEX_SHIFT)    /* lists[0] */
#define PERSON (WIT_TYPE_RECORD | 0 << WIT_TYPE_INDEX_SHIFT)    /* records[0] */
#define NONE 0xffffffffu
#define API "demo:app/api"

static const wit_field_t person_fields[] = {{"name", STR}, {"age", U32}};
static const wit_record_t records[] = {{API, "person", 2, person_fields}};
static const wit_list_t lists[] = {{NULL, NULL, STR}};
static const wit_type_t p_str[] = {STR}, p_list[] = {LIST_STR}, p_str_u32[] = {STR, U32},
                        p_person[] = {PERSON}, p_f32[] = {WIT_TYPE_F32};
enum { GREET, WORDS, SHOUT, COUNT, MAKE_PERSON, DESCRIBE, BIRTHDAY, NEXPORTS };
static const wit_export_func_t exports[] = {
    {API, "greet", NULL, 1, p_str, STR},
    {API, "words", NULL, 1, p_str, LIST_STR},
    {API, "shout", NULL, 1, p_list, STR},
    {API, "count", NULL, 1, p_list, U32},
    {API, "make-person", NULL, 2, p_str_u32, PERSON},
    {API, "describe", NULL, 1, p_person, STR},
    {API, "birthday", NULL, 1, p_person, PERSON},
    {NULL, "half", NULL, 1, p_f32, NONE},  /* only in the "unsupported" world */
};
static wit_t world = {
    .version = WIT_CURRENT_VERSION,
    .num_export_funcs = NEXPORTS, .export_funcs = exports,
    .num_records = 1, .records = records,
    .num_lists = 1, .lists = lists,
};

/* ---- The glue's side of the protocol ---- */

static void give_string(void *cx, const char *s) {
    size_t n = strlen(s);
    uint8_t *bytes = cabi_realloc(NULL, 0, 1, n);  /* (void *)1 when n == 0 */
    if (n) memcpy(bytes, s, n);
    wit_dylib_push_string(cx, bytes, n);
}

/* list<string>: offered whole, declined, then pushed element by element. */
static void give_list(void *cx, const char *const *items, size_t n) {
    void *elems = cabi_realloc(NULL, 0, 4, 8 * n);
    if (wit_dylib_push_list(cx, 0, elems, n)) {
        fprintf(stderr, "push_list accepted a list<string> buffer\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        give_string(cx, items[i]);
        wit_dylib_list_append(cx, 0);
    }
    wit_dylib_dealloc_bytes(cx, elems, 8 * n, 4, 0);
}

static void give_person(void *cx, const char *name, uint32_t age) {
    give_string(cx, name);
    wit_dylib_push_u32(cx, age);
    wit_dylib_push_record(cx, 0);
}

/* Results, appended to `out` in WAVE syntax. */
static char out[512];
static void put(const char *fmt, const char *s, size_t n) {
    size_t used = strlen(out);
    snprintf(out + used, sizeof out - used, fmt, (int)n, s);
}
static void take_string(void *cx) {
    const uint8_t *bytes;
    size_t n = wit_dylib_pop_string(cx, &bytes);
    put("\"%.*s\"", (const char *)bytes, n);
}
static void take_result(void *cx, wit_type_t ty) {
    if (ty == STR) {
        take_string(cx);
    } else if (ty == U32) {
        char num[16];
        snprintf(num, sizeof num, "%" PRIu32, wit_dylib_pop_u32(cx));
        put("%.*s", num, strlen(num));
    } else if (ty == LIST_STR) {
        const void *elems;
        size_t n = wit_dylib_pop_list(cx, 0, &elems);
        put("%.*s", "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i) put("%.*s", ", ", 2);
            wit_dylib_pop_list_iter_next(cx, 0);
            take_string(cx);
        }
        wit_dylib_pop_list_iter(cx, 0);
        put("%.*s", "]", 1);
    } else if (ty == PERSON) {
        wit_dylib_pop_record(cx, 0);
        put("%.*s", "{name: ", 7);
        take_string(cx);
        char age[32];
        snprintf(age, sizeof age, ", age: %" PRIu32 "}", wit_dylib_pop_u32(cx));
        put("%.*s", age, strlen(age));
    }
}

/* ---- Tests ---- */

static int failures;

static void expect_out(const char *call, const char *want) {
    if (strcmp(out, want)) {
        printf("FAIL %s: got %s, want %s\n", call, out, want);
        failures++;
    } else {
        printf("ok   %s -> %s\n", call, out);
    }
}

/* One export call: `args` pushes the arguments; the result lands in `out`. */
#define CALL(which, want, args)                                         \
    do {                                                                \
        void *cx = wit_dylib_export_start(which);                       \
        args;                                                           \
        wit_dylib_export_call(cx, which);                               \
        out[0] = 0;                                                     \
        take_result(cx, exports[which].result);                         \
        wit_dylib_export_finish(cx, which);                             \
        expect_out(#which " " #args, want);                             \
    } while (0)

/* Runs `body` in a child process and expects it to abort with `message`
 * on stderr. */
#define EXPECT_ABORT(message, body)                                       \
    do {                                                                  \
        int fds[2];                                                       \
        fflush(stdout);                                                   \
        if (pipe(fds)) abort();                                           \
        pid_t pid = fork();                                               \
        if (pid == 0) {                                                   \
            dup2(fds[1], 2);                                              \
            body;                                                         \
            _exit(0);                                                     \
        }                                                                 \
        close(fds[1]);                                                    \
        char err[1024] = {0};                                             \
        size_t got = 0;                                                   \
        ssize_t r;                                                        \
        while ((r = read(fds[0], err + got, sizeof err - 1 - got)) > 0)   \
            got += (size_t)r;                                             \
        close(fds[0]);                                                    \
        int status;                                                       \
        waitpid(pid, &status, 0);                                         \
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT ||        \
            !strstr(err, message)) {                                      \
            printf("FAIL expected abort with \"%s\", got: %s\n", message, \
                   err);                                                  \
            failures++;                                                   \
        } else {                                                          \
            printf("ok   aborts: %s", err);                               \
        }                                                                 \
    } while (0)

/* Runs `body` in a child process (to initialise with a script of its own);
 * the child's failures count as one. */
#define IN_CHILD(body)                                                      \
    do {                                                                    \
        fflush(stdout);                                                     \
        pid_t pid = fork();                                                 \
        if (pid == 0) {                                                     \
            body;                                                           \
            exit(failures);                                                 \
        }                                                                   \
        int status;                                                         \
        waitpid(pid, &status, 0);                                           \
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {                    \
            printf("FAIL in a child process (status %d)\n", status);        \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static void init_with(const char *source) {
    set_script("t.rules", source);
    wit_dylib_initialize(&world);
}

static const char *RULES =
    "greet(name) = \"Hello, \" ++ name ++ \"!\"\n"
    "words(text) = split(text, \" \")\n"
    "shout(words) = upper(join(reverse(words), \" \")) ++ \"!\"\n"
    "count(words) = length(words)\n"
    "make-person(name, age) = person { name: name, age: age }\n"
    "describe(p) = p.name ++ \" is \" ++ p.age ++ \" years old\"\n"
    "birthday(p) = person { name: p.name, age: p.age + 1 }\n";

/* RULES with its line for `export` replaced by `rule`. */
static char *with_rule(const char *export, const char *rule) {
    static char buf[2048];
    buf[0] = 0;
    for (const char *line = RULES; *line;) {
        const char *end = strchr(line, '\n') + 1;
        if (!strncmp(line, export, strlen(export)) && line[strlen(export)] == '(') {
            if (rule) strcat(buf, rule), strcat(buf, "\n");
        } else {
            strncat(buf, line, (size_t)(end - line));
        }
        line = end;
    }
    return buf;
}

int main(int argc, char **argv) {
    /* The script library of the component: ../app.rules by default. */
    FILE *f = fopen(argc > 1 ? argv[1] : "../app.rules", "rb");
    static char source[4096];
    if (!f || !fread(source, 1, sizeof source - 1, f)) {
        perror("reading the rules");
        return 1;
    }
    fclose(f);
    set_script("app.rules", source);

    /* Script errors, each in a fresh child. */
    EXPECT_ABORT("t.rules:1: unknown name `nme`",
                 init_with(with_rule("greet", "greet(name) = \"Hi \" ++ nme")));
    EXPECT_ABORT("no rule for export `demo:app/api#count`", init_with(with_rule("count", NULL)));
    EXPECT_ABORT("t.rules:8: the world exports no function `greeet`",
                 init_with(strcat(with_rule("x", NULL), "greeet(n) = n\n")));
    EXPECT_ABORT("`greet` takes 1 parameter(s), the rule names 2",
                 init_with(with_rule("greet", "greet(a, b) = a")));
    EXPECT_ABORT("record `person` has no field `nam`",
                 init_with(with_rule("describe", "describe(p) = p.nam")));
    EXPECT_ABORT("record `person` needs field `age`",
                 init_with(with_rule("make-person",
                                     "make-person(name, age) = person { name: name, years: age }")));
    EXPECT_ABORT("expected string, found list<string>",
                 init_with(with_rule("greet", "greet(name) = split(name, \",\")")));
    EXPECT_ABORT("expected `)`",
                 init_with(with_rule("greet", "greet(name = name")));
    EXPECT_ABORT("unknown function `lower`",
                 init_with(with_rule("greet", "greet(name) = lower(name)")));
    EXPECT_ABORT("a second rule for `demo:app/api#greet` (the first is on line 1)",
                 init_with(strcat(with_rule("x", NULL), "demo:app/api#greet(n) = n\n")));
    EXPECT_ABORT("parameter `x` of `half` uses type f32, which is not supported", {
        world.num_export_funcs = NEXPORTS + 1;
        init_with(strcat(with_rule("x", NULL), "half(x) = x\n"));
    });

    /* The rest of the language, with a script of its own. */
    static const char *const ws[] = {"one", "two", "three"}, *const xy[] = {"x", "y"};
    IN_CHILD({
        init_with("# every rule takes other paths\n"
                  "\n"
                  "greet(n) = length(n) ++ \":\" ++ join(split(n, \"\"), \"-\") ++ \"\\t\\\"\"\n"
                  "words(t) = reverse([t, \"b\", upper(t)])  # a list literal\n"
                  "demo:app/api#shout(ws) = join(ws, \"+\")\n"
                  "count(ws) = length(ws) + -1\n"
                  "make-person(name, age) = person { age: age + 0, name: (name ++ \"\") }\n"
                  "describe(p) = p.name ++ \" \" ++ (p.age + 1)\n"
                  "birthday(p) = p\n");
        CALL(GREET, "\"5:h-\xc3\xa9-l-l-o\t\"\"", give_string(cx, "h\xc3\xa9llo"));
        CALL(WORDS, "[\"A\", \"b\", \"a\"]", give_string(cx, "a"));
        CALL(SHOUT, "\"x+y\"", give_list(cx, xy, 2));
        CALL(SHOUT, "\"\"", give_list(cx, xy, 0));
        CALL(COUNT, "2", give_list(cx, ws, 3));
        CALL(MAKE_PERSON, "{name: \"Bo\", age: 7}", (give_string(cx, "Bo"), wit_dylib_push_u32(cx, 7)));
        CALL(DESCRIBE, "\"Ada 37\"", give_person(cx, "Ada", 36));
        CALL(BIRTHDAY, "{name: \"Ada\", age: 36}", give_person(cx, "Ada", 36));
        EXPECT_ABORT("export `count`: -1 is out of range for u32", CALL(COUNT, "", give_list(cx, ws, 0)));
    });

    /* The real script. */
    wit_dylib_initialize(&world);
    CALL(GREET, "\"Hello, you!\"", give_string(cx, "you"));
    CALL(GREET, "\"Hello, !\"", give_string(cx, ""));
    CALL(WORDS, "[\"the\", \"quick\", \"fox\"]", give_string(cx, " the quick  fox "));
    CALL(WORDS, "[]", give_string(cx, ""));
    CALL(SHOUT, "\"THREE TWO ONE!\"", give_list(cx, ws, 3));
    CALL(SHOUT, "\"!\"", give_list(cx, ws, 0));
    CALL(COUNT, "3", give_list(cx, ws, 3));
    CALL(MAKE_PERSON, "{name: \"Ada\", age: 36}", (give_string(cx, "Ada"), wit_dylib_push_u32(cx, 36)));
    CALL(DESCRIBE, "\"Ada is 36 years old\"", give_person(cx, "Ada", 36));
    CALL(BIRTHDAY, "{name: \"Ada\", age: 37}", give_person(cx, "Ada", 36));

    /* Traps while running. */
    EXPECT_ABORT("export `birthday`: 4294967296 is out of range for u32",
                 CALL(BIRTHDAY, "", give_person(cx, "Old", UINT32_MAX)));
    EXPECT_ABORT("export `greet`: a string argument is not UTF-8",
                 CALL(GREET, "", give_string(cx, "\xff")));

    printf("%s\n", failures ? "FAILED" : "all passed");
    free(blob);
    return failures != 0;
}
