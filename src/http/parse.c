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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
/* The first byte at or after v[i] that is below 0x20 (tab included) or
 * DEL, within v[0, n); n when there is none. Sixteen bytes at a time where
 * SSE2 is there (every x86-64), else eight: a block with no such byte
 * passes at once, and the lowest flagged byte of a block is its first. */
static size_t first_control(const char *v, size_t i, size_t n)
{
#if defined(__SSE2__)
    /* A byte is below 0x20 when its unsigned minimum with 0x1f is itself. */
    const __m128i c1f = _mm_set1_epi8(0x1f), c7f = _mm_set1_epi8(0x7f);
    while (n - i >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x), _mm_cmpeq_epi8(x, c7f));
        int m = _mm_movemask_epi8(bad);
        if (m != 0)
            return i + (size_t)__builtin_ctz((unsigned)m);
        i += 16;
    }
#endif
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        uint64_t d = w ^ (0x7f * ones);
        uint64_t hit = (((w - 0x20 * ones) & ~w) | ((d - ones) & ~d)) & highs;
        if (hit != 0)
            return i + (size_t)__builtin_ctzll(hit) / 8;
        i += 8;
    }
    while (i < n && (unsigned char)v[i] >= 0x20 && v[i] != 0x7f)
        i++;
    return i;
}

/* Where a field value starting at v[i] stops: the first byte that cannot
 * be in a value (its line's CR, or a bad one), or n. One pass finds the
 * line's end and checks the value (the values of a signed request are
 * most of its head). */
static size_t value_stop(const char *v, size_t i, size_t n)
{
    for (;;) {
        i = first_control(v, i, n);
        if (i < n && v[i] == '\t') {
            i++;
            continue;
        }
        return i;
    }
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
    if (le + 1 >= n) /* the LF is still to come (and a lone CR may start an empty line) */
        return n >= max_head ? -414 : 0;
    if (b[le + 1] != '\n')
        return -400;
    long rc = check_request_line(b, le, &sp);
    if (rc != 0)
        return rc;

    /* One pass over the fields finds and checks each line without writing:
     * a head that has not ended yet is left as it is, to be read again
     * with more bytes. Running out of bytes within lim is "not yet", or
     * 431 when lim is the cap. */
    long short_ = n >= max_head ? -431 : 0;
    size_t pos = le + 2, nh = 0;
    for (;;) {
        if (pos >= lim)
            return short_;
        if (b[pos] == '\r') {
            if (pos + 1 >= lim)
                return short_;
            if (b[pos + 1] != '\n')
                return -400;
            pos += 2;
            break; /* the empty line */
        }
        size_t i = pos;
        while (i < lim && is_tchar((unsigned char)b[i]))
            i++;
        if (i >= lim)
            return short_;
        if (i == pos || b[i] != ':')
            return -400; /* no name, folded line, space before ':' */
        size_t name_end = i++;
        while (i < lim && (b[i] == ' ' || b[i] == '\t'))
            i++;
        size_t vs = i, eol = value_stop(b, i, lim);
        if (eol + 1 >= lim)
            return eol >= lim || b[eol] == '\r' ? short_ : -400;
        if (b[eol] != '\r' || b[eol + 1] != '\n')
            return -400;
        size_t ve = eol;
        while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
            ve--;
        if (nh >= maxh)
            return -431;
        headers[nh++] = (lv_http_header){b + pos, b + vs, name_end - pos, ve - vs};
        pos = eol + 2;
    }
    size_t end = pos;

    memset(h, 0, sizeof *h);
    h->minor = sp.minor;
    h->method = b;
    b[sp.method_end] = '\0';
    h->target = b + sp.target;
    b[sp.target_end] = '\0';
    h->nheaders = nh;
    for (size_t k = 0; k < nh; k++) { /* the pointers are into b */
        b[headers[k].name - b + headers[k].name_len] = '\0';
        b[headers[k].value - b + headers[k].value_len] = '\0';
    }
    int has_length = 0, has_te = 0, close_ = 0, keep = 0;
    for (size_t k = 0; k < nh; k++) {
        const char *name = headers[k].name, *val = headers[k].value;
        size_t nl = headers[k].name_len;
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
