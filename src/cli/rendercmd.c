/* rendercmd.c - `lever render`: resolve {{resolve:ssm:...}} placeholders of a
 * file or the parameters: map of a metadata.yaml through liblever (the
 * parsers are render.c's). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "core/buf.h"
#include "lever/lever.h"

/* ------------------------------------------------------------- render */

typedef struct rctx {
    lever_status st;
} rctx;

static int resolve_cb(void *user, bool secure, const char *name, const char *version, lv_buf *out, char *err,
                      size_t errlen)
{
    rctx *r = user;
    char sel[4096];
    snprintf(sel, sizeof sel, "%s%s%s", name, version ? ":" : "", version ? version : "");
    lever_param *p;
    lever_status st = lever_fetch(G.c, sel, secure, &p);
    if (st != LEVER_OK) {
        char msg[1024];
        lever_last_error(G.c, msg, sizeof msg);
        snprintf(err, errlen, "%s", msg);
        r->st = st;
        return -1;
    }
    const char *type = lever_param_type(p);
    int rc = 0;
    if (!secure && type && strcmp(type, "SecureString") == 0) {
        /* as CloudFormation: secrets only through the explicit ssm-secure form */
        snprintf(err, errlen, "%s is a SecureString: use {{resolve:ssm-secure:%s}}", name, name);
        r->st = LEVER_E_INVALID;
        rc = -1;
    } else if (lv_buf_puts(out, lever_param_value(p)) != LV_OK) {
        snprintf(err, errlen, "output too large");
        rc = -1;
    }
    lever_param_free(p);
    return rc;
}

/* Writes data to path atomically (temp file + rename), or to stdout when
 * path is NULL. On failure no file is left behind. */
static int write_out(const char *path, const char *data, size_t len)
{
    if (path == NULL) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            errf("writing stdout: %s", strerror(errno));
            return EX_ERROR;
        }
        return EX_OK;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        errf("%s: %s", path, strerror(errno));
        return EX_ERROR;
    }
    /* rendered files often hold secrets */
    fchmod(fd, 0600);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            errf("%s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            return EX_ERROR;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        errf("%s: %s", path, strerror(errno));
        unlink(tmp);
        return EX_ERROR;
    }
    return EX_OK;
}

typedef struct mctx {
    const char *env;
    json_t *obj;   /* KEY -> value, in file order */
    lever_status st;
    bool decrypt_masked;
} mctx;

static int meta_entry(void *user, const char *key, const char *path, int line, char *err, size_t errlen)
{
    (void)line;
    mctx *m = user;
    lv_buf name = LV_BUF_INIT;
    lv_error e = {0};
    if (lv_render_expand_env(path, m->env, &name, &e) != LV_OK) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    lever_param *p;
    lever_status st = lever_fetch(G.c, name.data, true, &p);
    if (st != LEVER_OK) {
        char msg[1024];
        lever_last_error(G.c, msg, sizeof msg);
        snprintf(err, errlen, "%s (%s): %s", key, name.data, msg);
        lv_buf_free(&name);
        m->st = st;
        return -1;
    }
    lv_buf_free(&name);
    int rc = json_object_set_new(m->obj, key, json_string(lever_param_value(p))) == 0 ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    lever_param_free(p);
    return rc;
}

int cmd_render(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"out", required_argument, NULL, 'O'},
                                       {"metadata", no_argument, NULL, 'm'},
                                       {"env", required_argument, NULL, 'e'},
                                       {"format", required_argument, NULL, 'f'},
                                       {0, 0, 0, 0}};
    const char *out = NULL, *env = NULL, *format = NULL;
    bool metadata = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hO:e:f:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case 'O': out = optarg; break;
        case 'm': metadata = true; break;
        case 'e': env = optarg; break;
        case 'f': format = optarg; break;
        }
    }
    if (argc - optind != 1)
        return usage_err("expected one FILE ('-' for stdin)");
    const char *file = argv[optind];
    if (env && !metadata)
        metadata = true;
    if (metadata && env == NULL)
        return usage_err("--metadata needs --env ENVIRONMENT (the value of {Environment})");
    if (format && strcmp(format, "env") && strcmp(format, "json"))
        return usage_err("--format is env or json");
    char *text = strcmp(file, "-") == 0 ? read_stream(stdin, "stdin") : read_file(file);
    if (text == NULL)
        return EX_ERROR;
    if ((rc = open_client()) != EX_OK) {
        free(text);
        return rc;
    }
    lv_buf buf = LV_BUF_INIT;
    lv_error e = {0};
    int result = EX_OK;
    if (!metadata) {
        rctx r = {LEVER_OK};
        if (lv_render_template(text, strlen(text), file, resolve_cb, &r, &buf, &e) != LV_OK) {
            errf("%s", e.msg);
            result = r.st != LEVER_OK ? exit_of(r.st) : EX_ERROR;
        } else {
            result = write_out(out, buf.data ? buf.data : "", buf.len);
        }
    } else {
        mctx m = {env, json_object(), LEVER_OK, false};
        if (m.obj == NULL || lv_render_parse_metadata(text, strlen(text), file, meta_entry, &m, &e) != LV_OK) {
            errf("%s", m.obj ? e.msg : "out of memory");
            result = m.st != LEVER_OK ? exit_of(m.st) : EX_ERROR;
        } else {
            bool as_json = format ? strcmp(format, "json") == 0 : json_out();
            if (as_json) {
                char *s = json_dumps(m.obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s && lv_buf_puts(&buf, s) == LV_OK && lv_buf_putc(&buf, '\n') == LV_OK)
                    result = write_out(out, buf.data, buf.len);
                else
                    result = EX_ERROR;
                free(s);
            } else {
                const char *k;
                json_t *v;
                FILE *mem;
                char *mbuf = NULL;
                size_t mlen = 0;
                mem = open_memstream(&mbuf, &mlen);
                if (mem == NULL) {
                    result = EX_ERROR;
                } else {
                    json_object_foreach(m.obj, k, v) {
                        fprintf(mem, "%s=", k);
                        print_dotenv_value(mem, json_string_value(v));
                        fputc('\n', mem);
                    }
                    fclose(mem);
                    result = write_out(out, mbuf ? mbuf : "", mlen);
                    free(mbuf);
                }
            }
        }
        json_decref(m.obj);
    }
    lv_buf_free(&buf);
    free(text);
    return result;
}
