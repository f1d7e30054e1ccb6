/**
 * @file fuzz_pktscript.c
 * libFuzzer harness: script text into the packet-script parser of
 * tests/tcpstack/pktscript.h (ps_parse_line), line by line.
 *
 * Checked for every line: the parse either succeeds or leaves a terminated,
 * non-empty error; a parsed segment, printed back with ps_seg_str() and
 * parsed again, gives the same segment (the printer and the parser agree,
 * so a failure message shows what the script said); an errno result has a
 * name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktscript.h"

#define FP_LINE_MAX 1024

static void fp_die(const char *what, const char *line)
{
    fprintf(stderr, "fuzz_pktscript: invariant broken: %s\nline: %s\n", what, line);
    abort();
}

static void fp_roundtrip(const struct ps_seg *seg, const char *line)
{
    char text[768], again[800], err[PS_ERR_MAX];
    ps_seg_str(seg, text, sizeof text);
    if (strlen(text) + 1 >= sizeof text)
        return; /* cut short: nothing to compare */
    snprintf(again, sizeof again, "0 > %s", text);
    static struct ps_line l2;
    if (!ps_parse_line(again, &l2, err)) {
        fprintf(stderr, "printed: %s\nerror: %s\n", again, err);
        fp_die("a printed segment does not parse", line);
    }
    if (l2.kind != PS_LINE_EVENT || l2.ev.kind != PS_OUT ||
        memcmp(&l2.ev.seg, seg, sizeof(*seg)) != 0) {
        fprintf(stderr, "printed: %s\n", again);
        fp_die("a printed segment parses to another segment", line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[FP_LINE_MAX + 1];
    static struct ps_line l;
    char err[PS_ERR_MAX];
    while (size > 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        size_t take = n < FP_LINE_MAX ? n : FP_LINE_MAX;
        memcpy(line, data, take);
        line[take] = '\0';
        data += n + (nl != NULL), size -= n + (nl != NULL);

        memset(err, 0x5a, sizeof err);
        if (!ps_parse_line(line, &l, err)) {
            if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
                fp_die("a parse error without a message", line);
            continue;
        }
        if (l.kind != PS_LINE_EVENT)
            continue;
        if (l.ev.kind == PS_IN || l.ev.kind == PS_OUT)
            fp_roundtrip(&l.ev.seg, line);
        if (l.ev.has_ret && l.ev.ret == -1 && strcmp(ps_errno_name(l.ev.err), "E?") == 0)
            fp_die("an errno result without a name", line);
    }
    return 0;
}
