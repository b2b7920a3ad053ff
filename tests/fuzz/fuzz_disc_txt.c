/* fuzz_disc_txt.c -- libFuzzer target for the mDNS TXT record of _tipd._tcp.
 *
 * Anyone on the LAN can announce a _tipd._tcp service with any TXT record,
 * so the bytes reaching disc_parse_txt() are untrusted. The input is a TXT
 * RDATA in DNS wire format (length-prefixed strings), turned into an
 * AvahiStringList the way avahi-daemon's records are, then parsed. Beyond
 * "no crash": an accepted record has a version in 1..999, a non-empty
 * NUL-terminated net of allowed characters, and an inst that is either empty
 * or of allowed characters; a rejected one leaves the output zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <avahi-common/strlst.h>

#include "disc.h"

static int s_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    AvahiStringList *l = NULL;
    if (avahi_string_list_parse(data, size, &l) < 0) return 0;
    disc_txt_t t;
    memset(&t, 0x5a, sizeof t);
    if (disc_parse_txt(l, &t) == 0) {
        if (t.version < 1 || t.version > 999) abort();
        if (!t.net[0] || !s_clean(t.net, sizeof t.net)) abort();
        if (!s_clean(t.inst, sizeof t.inst)) abort();
    } else {
        static const disc_txt_t zero;
        if (memcmp(&t, &zero, sizeof t) != 0) abort();
    }
    avahi_string_list_free(l);
    return 0;
}
