/**
 * @file pktscript.h
 * The packet-script language of test_pktscripts.c (the format is described
 * there): a tokenizer, a parser from one script line into a struct ps_line,
 * and a printer that renders a segment back in the script's own syntax for
 * failure messages. Nothing here knows the stack: sequence numbers stay
 * relative, and the executor gives them meaning.
 */
#ifndef PKTSCRIPT_H
#define PKTSCRIPT_H

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_tcp.h>

#define PS_OPT_MAX 16  /* options in one segment */
#define PS_SACK_MAX 4  /* blocks in one SACK option */
#define PS_TOK_MAX 64  /* characters in one token */
#define PS_ERR_MAX 256 /* characters in a parse error */

/* TCP option kinds (RFC 9293 3.1, RFC 7323, RFC 2018). */
enum ps_optkind {
    PS_OPT_EOL = 0,
    PS_OPT_NOP = 1,
    PS_OPT_MSS = 2,
    PS_OPT_WSCALE = 3,
    PS_OPT_SACKOK = 4,
    PS_OPT_SACK = 5,
    PS_OPT_TS = 8,
};

struct ps_opt {
    uint8_t kind;  /* enum ps_optkind */
    uint8_t nsack; /* SACK: blocks */
    bool val_any;  /* TS val * */
    bool ecr_any;  /* TS ecr *: outbound any, inbound the stack's last TSval */
    uint32_t v;    /* MSS, window shift, TS val */
    uint32_t ecr;  /* TS ecr */
    int64_t sack[PS_SACK_MAX][2]; /* relative to the other side's ISS */
};

/* A segment as a script line states it; numbers are relative. */
struct ps_seg {
    uint8_t flags; /* RTE_TCP_*_FLAG */
    int64_t seq;
    uint32_t len;
    bool has_ack;
    int64_t ack;
    bool win_any; /* outbound: "win *" or no win given */
    uint32_t win;
    bool opts_any; /* outbound: <...> */
    uint8_t nopt;
    struct ps_opt opt[PS_OPT_MAX];
};

enum ps_kind {
    PS_IN,        /* < segment */
    PS_OUT,       /* > segment */
    PS_LISTEN,    /* listen PORT [backlog N] */
    PS_CONNECT,   /* connect [PORT] */
    PS_ACCEPT,    /* accept [= RET [ERRNO]] */
    PS_READ,      /* read N = RET [ERRNO] */
    PS_WRITE,     /* write N = RET [ERRNO] */
    PS_WRITE_REF, /* write_ref N = RET [ERRNO] */
    PS_SHUTDOWN,  /* shutdown rd|wr|rdwr [= RET [ERRNO]] */
    PS_CLOSE,     /* close [listener] [= RET [ERRNO]] */
    PS_STAT,      /* stat FIELD = VALUE */
    PS_REC,       /* rec FIELD = VALUE: the connection's struct tcp_rec */
    PS_SOCK,      /* sock FIELD = VALUE: its struct ts_sock */
    PS_PEER_PORT, /* peer_port N */
};

struct ps_event {
    bool relative; /* "+T": after the previous line */
    int64_t time_us;
    enum ps_kind kind;
    struct ps_seg seg; /* PS_IN, PS_OUT */
    int64_t arg;       /* port, byte count, shutdown how, stat value */
    int64_t backlog;   /* listen */
    bool listener;     /* close listener */
    bool has_ret;      /* "= RET" given */
    int64_t ret;
    int err;               /* errno after "= -1" */
    char name[PS_TOK_MAX]; /* stat, rec or sock field */
};

enum ps_line_kind { PS_LINE_BLANK, PS_LINE_DIRECTIVE, PS_LINE_EVENT };

/* "%param NAME VALUE", "%tolerance_ms N", "%peer_isn N" */
struct ps_directive {
    char what[PS_TOK_MAX]; /* param, tolerance_ms, peer_isn */
    char name[PS_TOK_MAX]; /* param name */
    char value[PS_TOK_MAX];
};

struct ps_line {
    enum ps_line_kind kind;
    struct ps_directive dir;
    struct ps_event ev;
};

/* ------------------------------------------------------------ tokenizer */

/* Words separated by blanks; '<', '>', ',' and '=' are tokens of their own.
 * A "//" starts a comment. */
struct ps_lex {
    const char *p;
};

static bool ps_is_punct(char c)
{
    return c == '<' || c == '>' || c == ',' || c == '=';
}

/* The next token into @p tok; false at the end of the line. */
static bool ps_next(struct ps_lex *lx, char tok[PS_TOK_MAX])
{
    while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n')
        lx->p++;
    if (*lx->p == '\0' || (lx->p[0] == '/' && lx->p[1] == '/')) {
        tok[0] = '\0';
        return false;
    }
    size_t n = 0;
    if (ps_is_punct(*lx->p)) {
        tok[n++] = *lx->p++;
    } else {
        while (*lx->p && !isspace((unsigned char)*lx->p) && !ps_is_punct(*lx->p) &&
               !(lx->p[0] == '/' && lx->p[1] == '/')) {
            if (n + 1 < PS_TOK_MAX)
                tok[n++] = *lx->p;
            lx->p++;
        }
    }
    tok[n] = '\0';
    return true;
}

/* Looks at the next token without taking it. */
static bool ps_peek(const struct ps_lex *lx, char tok[PS_TOK_MAX])
{
    struct ps_lex copy = *lx;
    return ps_next(&copy, tok);
}

/* Takes the next token when it is @p want. */
static bool ps_accept(struct ps_lex *lx, const char *want)
{
    char tok[PS_TOK_MAX];
    if (!ps_peek(lx, tok) || strcmp(tok, want) != 0)
        return false;
    ps_next(lx, tok);
    return true;
}

/* --------------------------------------------------------------- parser */

struct ps_parser {
    struct ps_lex lx;
    char *err; /* PS_ERR_MAX bytes; set on the first error */
};

__attribute__((format(printf, 2, 3))) static bool ps_error(struct ps_parser *ps,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, PS_ERR_MAX, fmt, ap);
    va_end(ap);
    return false;
}

/* A whole token as a signed integer (decimal, or hex with 0x). */
static bool ps_int(const char *tok, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(tok, &end, 0);
    if (tok[0] == '\0' || *end != '\0' || errno)
        return false;
    *v = x;
    return true;
}

static bool ps_expect_int(struct ps_parser *ps, const char *what, int64_t lo, int64_t hi,
                          int64_t *v)
{
    char tok[PS_TOK_MAX];
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "%s: missing number", what);
    if (!ps_int(tok, v) || *v < lo || *v > hi)
        return ps_error(ps, "%s: bad number '%s'", what, tok);
    return true;
}

/* "1.250" or "+0.010": seconds, down to the microsecond. */
static bool ps_parse_time(struct ps_parser *ps, const char *tok, struct ps_event *ev)
{
    const char *p = tok;
    ev->relative = *p == '+';
    if (ev->relative)
        p++;
    if (!isdigit((unsigned char)*p))
        return ps_error(ps, "a line starts with its time, not '%s'", tok);
    int64_t sec = 0, us = 0, scale = 100000;
    while (isdigit((unsigned char)*p)) {
        sec = sec * 10 + (*p++ - '0');
        if (sec > 100000)
            return ps_error(ps, "bad time '%s'", tok);
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (scale == 0)
                return ps_error(ps, "time '%s': finer than a microsecond", tok);
            us += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    if (*p != '\0' || sec > 100000)
        return ps_error(ps, "bad time '%s'", tok);
    ev->time_us = sec * 1000000 + us;
    return true;
}

/* "S", ".", "P.", "F.", "R.", "S." ... */
static bool ps_parse_flags(struct ps_parser *ps, const char *tok, uint8_t *flags)
{
    *flags = 0;
    for (const char *p = tok; *p; p++) {
        switch (*p) {
        case 'S':
            *flags |= RTE_TCP_SYN_FLAG;
            break;
        case 'F':
            *flags |= RTE_TCP_FIN_FLAG;
            break;
        case 'R':
            *flags |= RTE_TCP_RST_FLAG;
            break;
        case 'P':
            *flags |= RTE_TCP_PSH_FLAG;
            break;
        case 'U':
            *flags |= RTE_TCP_URG_FLAG;
            break;
        case 'E':
            *flags |= RTE_TCP_ECE_FLAG;
            break;
        case 'W':
            *flags |= RTE_TCP_CWR_FLAG;
            break;
        case '.':
            *flags |= RTE_TCP_ACK_FLAG;
            break;
        default:
            return ps_error(ps, "bad flags '%s' (S F R P U E W .)", tok);
        }
    }
    if (*flags == 0)
        return ps_error(ps, "no flags");
    return true;
}

/* Sequence numbers are taken modulo 2^32; bounded far inside int64_t, so
 * that END - SEQ and SEQ + LEN cannot overflow (sscanf saturates). */
#define PS_SEQ_LIMIT (1LL << 40)

static bool ps_seq_ok(long long a, long long b)
{
    return a > -PS_SEQ_LIMIT && a < PS_SEQ_LIMIT && b > -PS_SEQ_LIMIT && b < PS_SEQ_LIMIT;
}

/* "SEQ:END(LEN)" with END - SEQ == LEN. */
static bool ps_parse_range(struct ps_parser *ps, const char *tok, struct ps_seg *seg)
{
    long long a, b;
    unsigned long len;
    int used = 0;
    if (sscanf(tok, "%lld:%lld(%lu)%n", &a, &b, &len, &used) != 3 || tok[used] != '\0')
        return ps_error(ps, "bad range '%s' (SEQ:END(LEN))", tok);
    if (!ps_seq_ok(a, b))
        return ps_error(ps, "range '%s': a sequence number out of range", tok);
    if (b - a != (long long)len || len > 65535)
        return ps_error(ps, "range '%s': END - SEQ is not LEN", tok);
    seg->seq = a;
    seg->len = (uint32_t)len;
    return true;
}

/* "A:B" of a SACK block. */
static bool ps_parse_block(const char *tok, int64_t blk[2])
{
    long long a, b;
    int used = 0;
    if (sscanf(tok, "%lld:%lld%n", &a, &b, &used) != 2 || tok[used] != '\0' ||
        !ps_seq_ok(a, b))
        return false;
    blk[0] = a;
    blk[1] = b;
    return true;
}

/* A number or "*" (for TS val / ecr). */
static bool ps_parse_star(struct ps_parser *ps, const char *what, uint32_t *v, bool *any)
{
    char tok[PS_TOK_MAX];
    int64_t x;
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "%s: missing value", what);
    *any = strcmp(tok, "*") == 0;
    if (*any)
        return true;
    if (!ps_int(tok, &x) || x < 0 || x > UINT32_MAX)
        return ps_error(ps, "%s: bad value '%s'", what, tok);
    *v = (uint32_t)x;
    return true;
}

/* One option of "<...>". */
static bool ps_parse_opt(struct ps_parser *ps, struct ps_seg *seg)
{
    char tok[PS_TOK_MAX];
    int64_t x;
    if (seg->nopt == PS_OPT_MAX)
        return ps_error(ps, "more than %d options", PS_OPT_MAX);
    struct ps_opt *o = &seg->opt[seg->nopt++];
    memset(o, 0, sizeof(*o));
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "missing option");
    if (strcmp(tok, "nop") == 0) {
        o->kind = PS_OPT_NOP;
    } else if (strcmp(tok, "eol") == 0) {
        o->kind = PS_OPT_EOL;
    } else if (strcmp(tok, "sackOK") == 0) {
        o->kind = PS_OPT_SACKOK;
    } else if (strcmp(tok, "mss") == 0) {
        o->kind = PS_OPT_MSS;
        if (!ps_expect_int(ps, "mss", 0, 65535, &x))
            return false;
        o->v = (uint32_t)x;
    } else if (strcmp(tok, "wscale") == 0) {
        o->kind = PS_OPT_WSCALE;
        if (!ps_expect_int(ps, "wscale", 0, 255, &x))
            return false;
        o->v = (uint32_t)x;
    } else if (strcmp(tok, "TS") == 0) {
        o->kind = PS_OPT_TS;
        if (!ps_accept(&ps->lx, "val"))
            return ps_error(ps, "TS: expected 'val'");
        if (!ps_parse_star(ps, "TS val", &o->v, &o->val_any))
            return false;
        if (!ps_accept(&ps->lx, "ecr"))
            return ps_error(ps, "TS: expected 'ecr'");
        if (!ps_parse_star(ps, "TS ecr", &o->ecr, &o->ecr_any))
            return false;
    } else if (strcmp(tok, "sack") == 0) {
        o->kind = PS_OPT_SACK;
        while (ps_peek(&ps->lx, tok) && strcmp(tok, ",") != 0 && strcmp(tok, ">") != 0) {
            if (o->nsack == PS_SACK_MAX)
                return ps_error(ps, "more than %d SACK blocks", PS_SACK_MAX);
            ps_next(&ps->lx, tok);
            if (!ps_parse_block(tok, o->sack[o->nsack]))
                return ps_error(ps, "bad SACK block '%s' (A:B)", tok);
            o->nsack++;
        }
        if (o->nsack == 0)
            return ps_error(ps, "sack without blocks");
    } else {
        return ps_error(ps, "unknown option '%s'", tok);
    }
    return true;
}

/* FLAGS SEQ:END(LEN) [ack N] [win W|*] [<options>|<...>] */
static bool ps_parse_seg(struct ps_parser *ps, bool outbound, struct ps_seg *seg)
{
    char tok[PS_TOK_MAX];
    memset(seg, 0, sizeof(*seg));
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "missing flags");
    if (!ps_parse_flags(ps, tok, &seg->flags))
        return false;
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "missing SEQ:END(LEN)");
    if (!ps_parse_range(ps, tok, seg))
        return false;
    if (ps_accept(&ps->lx, "ack")) {
        seg->has_ack = true;
        if (!ps_expect_int(ps, "ack", INT32_MIN, UINT32_MAX, &seg->ack))
            return false;
    }
    if (seg->has_ack != !!(seg->flags & RTE_TCP_ACK_FLAG))
        return ps_error(ps, "'ack N' goes with the '.' flag, and only with it");
    seg->win_any = true;
    if (ps_accept(&ps->lx, "win")) {
        if (ps_accept(&ps->lx, "*")) {
            if (!outbound)
                return ps_error(ps, "an inbound window is a number");
        } else {
            int64_t w;
            if (!ps_expect_int(ps, "win", 0, 65535, &w))
                return false;
            seg->win_any = false;
            seg->win = (uint32_t)w;
        }
    } else if (!outbound) {
        return ps_error(ps, "an inbound segment needs 'win W'");
    }
    if (ps_accept(&ps->lx, "<")) {
        if (ps_accept(&ps->lx, "...")) {
            if (!outbound)
                return ps_error(ps, "<...> is for outbound segments");
            seg->opts_any = true;
        } else {
            do {
                if (!ps_parse_opt(ps, seg))
                    return false;
            } while (ps_accept(&ps->lx, ","));
        }
        if (!ps_accept(&ps->lx, ">"))
            return ps_error(ps, "options: expected ',' or '>'");
    }
    return true;
}

static const struct {
    const char *name;
    int err;
} ps_errnos[] = {
    {"EAGAIN", EAGAIN},
    {"ECONNRESET", ECONNRESET},
    {"EPIPE", EPIPE},
    {"ENOTCONN", ENOTCONN},
    {"ETIMEDOUT", ETIMEDOUT},
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNABORTED", ECONNABORTED},
    {"EBADF", EBADF},
    {"EINVAL", EINVAL},
    {"EINPROGRESS", EINPROGRESS},
    {"EADDRINUSE", EADDRINUSE},
};

static const char *ps_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(ps_errnos) / sizeof(ps_errnos[0]); i++)
        if (ps_errnos[i].err == err)
            return ps_errnos[i].name;
    return "E?";
}

/* "= RET [ERRNO]"; optional unless @p required. */
static bool ps_parse_ret(struct ps_parser *ps, struct ps_event *ev, bool required)
{
    char tok[PS_TOK_MAX];
    if (!ps_accept(&ps->lx, "=")) {
        if (required)
            return ps_error(ps, "expected '= RESULT'");
        return true;
    }
    ev->has_ret = true;
    if (!ps_expect_int(ps, "result", -1, INT32_MAX, &ev->ret))
        return false;
    if (ev->ret != -1)
        return true;
    if (!ps_next(&ps->lx, tok))
        return ps_error(ps, "'= -1' needs an errno name");
    for (size_t i = 0; i < sizeof(ps_errnos) / sizeof(ps_errnos[0]); i++) {
        if (strcmp(tok, ps_errnos[i].name) == 0) {
            ev->err = ps_errnos[i].err;
            return true;
        }
    }
    return ps_error(ps, "unknown errno '%s'", tok);
}

/* The application calls. */
static bool ps_parse_app(struct ps_parser *ps, const char *verb, struct ps_event *ev)
{
    char tok[PS_TOK_MAX];
    if (strcmp(verb, "listen") == 0) {
        ev->kind = PS_LISTEN;
        ev->backlog = 16;
        if (!ps_expect_int(ps, "listen", 1, 65535, &ev->arg))
            return false;
        if (ps_accept(&ps->lx, "backlog") &&
            !ps_expect_int(ps, "backlog", 1, 65535, &ev->backlog))
            return false;
        return true;
    }
    if (strcmp(verb, "connect") == 0) {
        ev->kind = PS_CONNECT;
        ev->arg = 0; /* the peer's usual port */
        if (ps_peek(&ps->lx, tok) && strcmp(tok, "=") != 0 &&
            !ps_expect_int(ps, "connect", 1, 65535, &ev->arg))
            return false;
        return ps_parse_ret(ps, ev, false);
    }
    if (strcmp(verb, "accept") == 0) {
        ev->kind = PS_ACCEPT;
        return ps_parse_ret(ps, ev, false);
    }
    if (strcmp(verb, "read") == 0 || strcmp(verb, "write") == 0 ||
        strcmp(verb, "write_ref") == 0) {
        ev->kind = verb[0] == 'r' ? PS_READ : verb[5] == '_' ? PS_WRITE_REF : PS_WRITE;
        if (!ps_expect_int(ps, verb, 0, 1 << 20, &ev->arg))
            return false;
        return ps_parse_ret(ps, ev, true);
    }
    if (strcmp(verb, "shutdown") == 0) {
        ev->kind = PS_SHUTDOWN;
        if (!ps_next(&ps->lx, tok))
            return ps_error(ps, "shutdown: rd, wr or rdwr");
        if (strcmp(tok, "rd") == 0)
            ev->arg = 0;
        else if (strcmp(tok, "wr") == 0)
            ev->arg = 1;
        else if (strcmp(tok, "rdwr") == 0)
            ev->arg = 2;
        else
            return ps_error(ps, "shutdown: rd, wr or rdwr, not '%s'", tok);
        return ps_parse_ret(ps, ev, false);
    }
    if (strcmp(verb, "close") == 0) {
        ev->kind = PS_CLOSE;
        ev->listener = ps_accept(&ps->lx, "listener");
        return ps_parse_ret(ps, ev, false);
    }
    if (strcmp(verb, "peer_port") == 0) {
        ev->kind = PS_PEER_PORT;
        return ps_expect_int(ps, "peer_port", 1, 65535, &ev->arg);
    }
    if (strcmp(verb, "stat") == 0) {
        ev->kind = PS_STAT;
        if (!ps_next(&ps->lx, ev->name) || !ps_accept(&ps->lx, "="))
            return ps_error(ps, "stat FIELD = VALUE");
        return ps_expect_int(ps, "stat", 0, INT64_MAX, &ev->arg);
    }
    if (strcmp(verb, "rec") == 0 || strcmp(verb, "sock") == 0) {
        ev->kind = strcmp(verb, "rec") == 0 ? PS_REC : PS_SOCK;
        if (!ps_next(&ps->lx, ev->name) || !ps_accept(&ps->lx, "="))
            return ps_error(ps, "%s FIELD = VALUE", verb);
        return ps_expect_int(ps, verb, 0, UINT32_MAX, &ev->arg);
    }
    return ps_error(ps, "unknown event '%s'", verb);
}

/* Parses one line; false with @p err set when it is malformed. */
static bool ps_parse_line(const char *text, struct ps_line *out, char err[PS_ERR_MAX])
{
    struct ps_parser ps = {.lx = {.p = text}, .err = err};
    char tok[PS_TOK_MAX];
    err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (!ps_next(&ps.lx, tok) || tok[0] == '#') {
        out->kind = PS_LINE_BLANK;
        return true;
    }
    if (tok[0] == '%') {
        struct ps_directive *d = &out->dir;
        out->kind = PS_LINE_DIRECTIVE;
        snprintf(d->what, sizeof(d->what), "%s", tok + 1);
        if (strcmp(d->what, "param") == 0 && !ps_next(&ps.lx, d->name))
            return ps_error(&ps, "%%param NAME VALUE");
        if (!ps_next(&ps.lx, d->value))
            return ps_error(&ps, "%%%s: missing value", d->what);
    } else {
        struct ps_event *ev = &out->ev;
        out->kind = PS_LINE_EVENT;
        if (!ps_parse_time(&ps, tok, ev))
            return false;
        if (!ps_next(&ps.lx, tok))
            return ps_error(&ps, "a time needs an event");
        if (strcmp(tok, "<") == 0 || strcmp(tok, ">") == 0) {
            ev->kind = tok[0] == '<' ? PS_IN : PS_OUT;
            if (!ps_parse_seg(&ps, ev->kind == PS_OUT, &ev->seg))
                return false;
        } else if (!ps_parse_app(&ps, tok, ev)) {
            return false;
        }
    }
    if (ps_next(&ps.lx, tok))
        return ps_error(&ps, "unexpected '%s' at the end of the line", tok);
    return true;
}

/* -------------------------------------------------------------- printer */

struct ps_buf {
    char *s;
    size_t n, len;
};

__attribute__((format(printf, 2, 3))) static void ps_printf(struct ps_buf *b,
                                                            const char *fmt, ...)
{
    if (b->len >= b->n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->len += (size_t)k;
}

/* Renders @p seg as a script would state it, into @p out. */
static const char *ps_seg_str(const struct ps_seg *seg, char *out, size_t n)
{
    struct ps_buf b = {out, n, 0};
    out[0] = '\0';
    static const struct {
        uint8_t f;
        char c;
    } fl[] = {{RTE_TCP_SYN_FLAG, 'S'}, {RTE_TCP_FIN_FLAG, 'F'}, {RTE_TCP_RST_FLAG, 'R'},
              {RTE_TCP_PSH_FLAG, 'P'}, {RTE_TCP_URG_FLAG, 'U'}, {RTE_TCP_ECE_FLAG, 'E'},
              {RTE_TCP_CWR_FLAG, 'W'}, {RTE_TCP_ACK_FLAG, '.'}};
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if (seg->flags & fl[i].f)
            ps_printf(&b, "%c", fl[i].c);
    ps_printf(&b, " %lld:%lld(%u)", (long long)seg->seq, (long long)(seg->seq + seg->len),
              seg->len);
    if (seg->has_ack)
        ps_printf(&b, " ack %lld", (long long)seg->ack);
    if (seg->win_any)
        ps_printf(&b, " win *");
    else
        ps_printf(&b, " win %u", seg->win);
    if (seg->opts_any) {
        ps_printf(&b, " <...>");
        return out;
    }
    for (unsigned i = 0; i < seg->nopt; i++) {
        const struct ps_opt *o = &seg->opt[i];
        ps_printf(&b, "%s", i == 0 ? " <" : ",");
        switch (o->kind) {
        case PS_OPT_EOL:
            ps_printf(&b, "eol");
            break;
        case PS_OPT_NOP:
            ps_printf(&b, "nop");
            break;
        case PS_OPT_MSS:
            ps_printf(&b, "mss %u", o->v);
            break;
        case PS_OPT_WSCALE:
            ps_printf(&b, "wscale %u", o->v);
            break;
        case PS_OPT_SACKOK:
            ps_printf(&b, "sackOK");
            break;
        case PS_OPT_TS:
            if (o->val_any)
                ps_printf(&b, "TS val *");
            else
                ps_printf(&b, "TS val %u", o->v);
            if (o->ecr_any)
                ps_printf(&b, " ecr *");
            else
                ps_printf(&b, " ecr %u", o->ecr);
            break;
        case PS_OPT_SACK:
            ps_printf(&b, "sack");
            for (unsigned k = 0; k < o->nsack; k++)
                ps_printf(&b, " %lld:%lld", (long long)o->sack[k][0],
                          (long long)o->sack[k][1]);
            break;
        default:
            ps_printf(&b, "kind%u", o->kind);
            break;
        }
        if (i + 1 == seg->nopt)
            ps_printf(&b, ">");
    }
    return out;
}

#endif
