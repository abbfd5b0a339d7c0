/* parse.c - HTTP/1.x request heads and the chunked coding (RFC 9112),
 * strict where leniency has caused request smuggling elsewhere: lines end
 * in CRLF, no folded fields, one agreed Content-Length, no
 * Content-Length beside Transfer-Encoding, no coding but chunked. */
#include "http/parse.h"

#include "core/hex.h"
#include "http/addr.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar, as a table: it is asked of every byte of every name. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
};

static int is_tchar(unsigned char c)
{
    return tchar[c];
}

/* Field values: visible ASCII, space, tab and obs-text. */
static int is_vchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Whether v[0, n) is all field-value characters. Eight bytes at a time
 * (a word with no byte below 0x20 and none equal to 0x7f passes at once),
 * byte by byte only for a word with a tab or a bad byte in it: the values
 * of a signed request are most of its head. */
static int values_ok(const char *v, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, v + k, 8);
        uint64_t low = (w - 0x20 * ones) & ~w & highs;  /* some byte < 0x20 */
        uint64_t d = w ^ (0x7f * ones);
        uint64_t del = (d - ones) & ~d & highs;          /* some byte == 0x7f */
        if ((low | del) == 0)
            continue;
        for (size_t j = k; j < k + 8; j++)
            if (!is_vchar((unsigned char)v[j]))
                return 0;
    }
    for (; k < n; k++)
        if (!is_vchar((unsigned char)v[k]))
            return 0;
    return 1;
}

typedef struct line_span {
    size_t method_end, target, target_end;
    int minor;
} line_span;

/* Checks the request line buf[0, end) (end is at its CR). 0 or -status. */
static long check_request_line(const char *buf, size_t end, line_span *sp)
{
    size_t i = 0;
    while (i < end && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= end || buf[i] != ' ')
        return -400;
    sp->method_end = i++;
    sp->target = i;
    while (i < end && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
        i++;
    if (i == sp->target || i >= end || buf[i] != ' ')
        return -400;
    sp->target_end = i++;
    const char *v = buf + i;
    if (end - i != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
        v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
        return -400;
    if (v[5] != '1')
        return -505;
    sp->minor = v[7] == '0' ? 0 : 1; /* a later 1.x is read as 1.1 */
    return 0;
}

/* Connection: a comma-separated list of options. */
static void connection_options(const char *v, int *close_, int *keep)
{
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *s = v;
        while (*v && *v != ',' && *v != ' ' && *v != '\t')
            v++;
        size_t n = (size_t)(v - s);
        if (n == 5 && strncasecmp(s, "close", 5) == 0)
            *close_ = 1;
        else if (n == 10 && strncasecmp(s, "keep-alive", 10) == 0)
            *keep = 1;
    }
}

/* Where the head ends (just past its empty line), or 0 when it has not
 * ended within buf[0, len). */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len;) {
        const char *nl = memchr(buf + i + 1, '\n', len - i - 1);
        if (nl == NULL)
            return 0;
        size_t at = (size_t)(nl - buf);
        if (at + 2 < len && buf[at + 1] == '\r' && buf[at + 2] == '\n')
            return at + 3;
        i = at;
    }
    return 0;
}

long lv_http_parse_head(char *buf, size_t len, size_t max_head,
                        lv_http_header *headers, size_t maxh, lv_http_head *h)
{
    /* Empty lines before a request are ignored (RFC 9112, 2.2). */
    size_t skip = 0;
    while (skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n')
        skip += 2;
    char *b = buf + skip;
    size_t n = len - skip;
    size_t lim = n < max_head ? n : max_head;

    const char *cr = memchr(b, '\r', lim);
    if (cr == NULL)
        return n >= max_head ? -414 : 0;
    size_t le = (size_t)(cr - b);
    line_span sp;
    if (le + 1 < n && b[le + 1] != '\n')
        return -400;
    long rc = check_request_line(b, le, &sp);
    if (rc != 0)
        return rc;
    size_t end = head_end(b, lim);
    if (end == 0)
        return n >= max_head ? -431 : 0;

    memset(h, 0, sizeof *h);
    h->minor = sp.minor;
    h->method = b;
    b[sp.method_end] = '\0';
    h->target = b + sp.target;
    b[sp.target_end] = '\0';

    int has_length = 0, has_te = 0, close_ = 0, keep = 0;
    size_t pos = le + 2;
    while (pos + 2 <= end) {
        char *line = b + pos;
        char *eol = memchr(line, '\r', end - pos);
        if (eol == NULL || eol[1] != '\n')
            return -400;
        pos = (size_t)(eol - b) + 2;
        if (eol == line)
            break; /* the empty line */
        size_t i = 0, ll = (size_t)(eol - line);
        while (i < ll && is_tchar((unsigned char)line[i]))
            i++;
        if (i == 0 || i >= ll || line[i] != ':')
            return -400; /* no name, folded line, space before ':' */
        char *name = line;
        size_t nl = i;
        line[i++] = '\0';
        while (i < ll && (line[i] == ' ' || line[i] == '\t'))
            i++;
        char *val = line + i;
        size_t ve = ll;
        while (ve > i && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
            ve--;
        if (!values_ok(line + i, ve - i))
            return -400;
        line[ve] = '\0';
        if (h->nheaders >= maxh)
            return -431;
        headers[h->nheaders].name = name;
        headers[h->nheaders].value = val;
        headers[h->nheaders].name_len = nl;
        headers[h->nheaders].value_len = ve - i;
        h->nheaders++;

        /* Only four names matter to the framing; the length and first
         * letter rule out the others before any comparison. */
        int first = name[0] | 0x20;
        if (nl == 14 && first == 'c' && strcasecmp(name, "content-length") == 0) {
            size_t v;
            if (!lv_http_parse_size(val, &v) || (has_length && v != h->content_length))
                return -400;
            has_length = 1;
            h->content_length = v;
        } else if (nl == 17 && first == 't' && strcasecmp(name, "transfer-encoding") == 0) {
            if (has_te)
                return -400;
            has_te = 1;
            if (strcasecmp(val, "chunked") != 0)
                return -501;
            h->chunked = 1;
        } else if (nl == 10 && first == 'c' && strcasecmp(name, "connection") == 0) {
            connection_options(val, &close_, &keep);
        } else if (nl == 6 && first == 'e' && strcasecmp(name, "expect") == 0) {
            if (strcasecmp(val, "100-continue") != 0)
                return -417;
            h->expect_continue = 1;
        }
    }
    if (has_te && (has_length || h->minor == 0))
        return -400;
    h->keep_alive = h->minor >= 1 ? !close_ : (keep && !close_);
    return (long)(skip + end);
}

enum {
    CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
    CH_TRAILER_START, CH_TRAILER, CH_TRAILER_LF, CH_END_LF,
    CH_MAX_LINE = 4096,  /* a size line with its extensions; a trailer */
    CH_MAX_DIGITS = 15,  /* sizes below 2^60 */
};

static void take(lv_http_chunked *c, const char *p, size_t k, lv_buf *out)
{
    if (c->too_big)
        return;
    lv_err rc = lv_buf_append(out, p, k);
    if (rc != LV_OK) {
        /* Past the cap (or out of memory): keep reading, hold nothing. */
        c->too_big = 1;
        lv_buf_free(out);
    }
}

size_t lv_http_chunked_feed(lv_http_chunked *c, const char *in, size_t n, lv_buf *out)
{
    size_t i = 0;
    while (i < n && !c->done && !c->error) {
        char ch = in[i];
        switch (c->state) {
        case CH_SIZE: {
            int v = lv_hexval(ch);
            if (v >= 0 && c->digits < CH_MAX_DIGITS) {
                c->left = c->left * 16 + (unsigned)v;
                c->digits++;
            } else if (c->digits > 0 && (ch == ';' || ch == ' ' || ch == '\t')) {
                c->state = CH_EXT;
            } else if (c->digits > 0 && ch == '\r') {
                c->state = CH_SIZE_LF;
            } else {
                c->error = 1;
                break;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (!is_vchar((unsigned char)ch) || ++c->line > CH_MAX_LINE)
                c->error = 1;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n') {
                c->error = 1;
                break;
            }
            c->state = c->left == 0 ? CH_TRAILER_START : CH_DATA;
            c->line = 0;
            i++;
            break;
        case CH_DATA: {
            size_t k = n - i;
            if ((unsigned long long)k > c->left)
                k = (size_t)c->left;
            take(c, in + i, k, out);
            c->left -= k;
            i += k;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                c->error = 1;
            c->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                c->error = 1;
            c->state = CH_SIZE;
            c->digits = 0;
            c->left = 0;
            i++;
            break;
        case CH_TRAILER_START:
            c->state = ch == '\r' ? CH_END_LF : CH_TRAILER;
            c->line = 0;
            if (c->state == CH_TRAILER && !is_vchar((unsigned char)ch))
                c->error = 1;
            i++;
            break;
        case CH_TRAILER:
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if (!is_vchar((unsigned char)ch) || ++c->line > CH_MAX_LINE)
                c->error = 1;
            i++;
            break;
        case CH_TRAILER_LF:
        case CH_END_LF:
            if (ch != '\n') {
                c->error = 1;
                break;
            }
            if (c->state == CH_END_LF)
                c->done = 1;
            c->state = CH_TRAILER_START;
            i++;
            break;
        default:
            c->error = 1;
        }
    }
    return i;
}
