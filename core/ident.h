/* ident.h -- identities and key files on disk.
 *
 * A user's identity is an Ed25519 seed kept in $TIP_HOME/identity (default
 * $XDG_CONFIG_HOME/tip, else ~/.config/tip), created mode 0600 on first use.
 * The daemon's node key is the same kind of file in its data directory. A key
 * file that another user owns (it may have been planted), or that group or
 * others can read, is refused: a leaked seed lets anyone sign as that person,
 * and we would rather stop than sign with it.
 *
 * The network key (tipd genkey) is 32 random bytes written as 64 lower-case
 * hex characters and a newline, mode 0600.
 *
 * Functions return 0 or -1; on -1 they write one human sentence into err.
 */
#ifndef TIPD_IDENT_H
#define TIPD_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define IDENT_FILE "identity"

typedef struct {
    uint8_t sk[64]; /* libsodium Ed25519 secret key (seed || pk) */
    uint8_t pk[32];
} ident_t;

/* The user's tip home: $TIP_HOME, else $XDG_CONFIG_HOME/tip, else
 * $HOME/.config/tip. -1 if none can be determined. */
int ident_home(char *out, size_t cap, char *err, size_t errlen);

/* Load DIR/identity, creating DIR (0700) and the file (0600) if absent.
 * Refuses a file readable by group/others or of the wrong size. */
int ident_load_or_create(const char *dir, ident_t *id, char *err, size_t errlen);

/* Load the key file at PATH, creating it (0600, parent directory 0700 if it
 * must be made) when absent. Same refusals as ident_load_or_create, and a
 * symbolic link at PATH is refused, not followed. The daemon's node key
 * lives at DATA/node.key. */
int ident_load_or_create_path(const char *path, ident_t *id, char *err, size_t errlen);

/* Load an existing key file only (no creation). */
int ident_load(const char *path, ident_t *id, char *err, size_t errlen);

/* A fresh one-time identity (for --anon); never written anywhere. */
void ident_ephemeral(ident_t *id);

/* Wipe secret bytes. */
void ident_wipe(ident_t *id);

/* Network key file: 64 hex chars + '\n', mode 0600, refuses to overwrite. */
int ident_netkey_generate(const char *path, char *err, size_t errlen);
int ident_netkey_load(const char *path, uint8_t key[32], char *err, size_t errlen);

/* Network id: lower-case hex of the first 8 bytes of
 * BLAKE2b-256("tipd-net-id" || 0x00 || key). Discovery and gossip advertise
 * it; a node without a network key uses the literal "open" instead. */
void ident_net_id(const uint8_t key[32], char out[17]);

#endif
