/*
 * redact.c - names that look like secrets: their values are shown as
 * <redacted>. A name is compared lowercased without '_' and '-', and is
 * secret when it contains one of the words below or one the user added
 * (--redact WORD). Pure text work: never looks at the value.
 */
#include "probe.h"
#include <ctype.h>
#include <string.h>

static const char *const words[] = {
    "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "accesskey",
    "privatekey", "authorization", "credential", "cookie", "sessionid", "csrf", "xsrf",
    "signature", "bearer", "jwt", "ssn", "creditcard", "cardnumber", "cvv", "iban",
};

static size_t normalise(const char *name, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '_' || c == '-')
            continue;
        out[n++] = (char)tolower(c);
    }
    out[n] = 0;
    return n;
}

static int contains(const char *hay, const char *needle)
{
    return needle[0] && strstr(hay, needle) != NULL;
}

int ftp_is_secret(const ftp_probe *p, const char *name, size_t len)
{
    char norm[128];
    normalise(name, len, norm, sizeof norm);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (contains(norm, words[i]))
            return 1;
    for (int i = 0; p && i < p->nredact; i++)
        if (contains(norm, p->redact[i]))
            return 1;
    return 0;
}

int ftp_is_secret_obj(const ftp_probe *p, PyObject *name)
{
    if (!name || !PyUnicode_Check(name))
        return 0;
    char buf[128];
    struct ftp_text t = { buf, 0, sizeof buf - 1, 0 };
    ftp_text_str(&t, name, 120);
    return ftp_is_secret(p, buf, t.len);
}
